//! Hands the tests the paths of the test components that host/build.rs
//! built (through the `links = "airlock"` metadata).

fn main() {
    for (dep, env) in [
        ("DEP_AIRLOCK_TYPED_RECORDS_WASM", "AIRLOCK_TYPED_RECORDS_WASM"),
        ("DEP_AIRLOCK_SPIN_SKILL_WASM", "AIRLOCK_SPIN_SKILL_WASM"),
    ] {
        println!("cargo:rustc-env={env}={}", std::env::var(dep).unwrap_or_default());
    }
}
