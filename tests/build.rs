//! Hands the tests the paths of the test components that host/build.rs
//! built (through the `links = "airlock"` metadata).

fn main() {
    let typed_records = std::env::var("DEP_AIRLOCK_TYPED_RECORDS_WASM").unwrap_or_default();
    println!("cargo:rustc-env=AIRLOCK_TYPED_RECORDS_WASM={typed_records}");
}
