//! Builds the guest components for `wasm32-wasip2` and hands their paths and
//! sha256 digests to the library (like wasmtime's test-programs artifacts).
//!
//! `AIRLOCK_JS_GUEST_WASM=path` and `AIRLOCK_PYTHON_GUEST_WASM=path` skip the
//! build and use prebuilt interpreter guests (both must be given).

use std::env;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};

const GUEST_TARGET: &str = "wasm32-wasip2";

/// The interpreter guests the library embeds: (file stem, env override,
/// env var carrying the digest).
const INTERPRETERS: &[(&str, &str, &str)] = &[
    ("airlock_guest_js", "AIRLOCK_JS_GUEST_WASM", "AIRLOCK_JS_GUEST_SHA256"),
    ("airlock_guest_python", "AIRLOCK_PYTHON_GUEST_WASM", "AIRLOCK_PYTHON_GUEST_SHA256"),
];

fn main() {
    let manifest_dir = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let root = manifest_dir.parent().expect("host/ sits in the workspace root").to_path_buf();
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    for (_, override_var, _) in INTERPRETERS {
        println!("cargo:rerun-if-env-changed={override_var}");
    }
    let prebuilt: Option<Vec<PathBuf>> =
        INTERPRETERS.iter().map(|(_, var, _)| env::var_os(var).map(PathBuf::from)).collect();
    let guests = match prebuilt {
        Some(paths) => paths,
        None => {
            let release = build_guests(&root, &out_dir);
            // Test components built beside them, for the tests crate.
            for component in ["typed_records", "spin_skill"] {
                println!("cargo:{component}_wasm={}", release.join(format!("{component}.wasm")).display());
            }
            INTERPRETERS.iter().map(|(stem, _, _)| release.join(format!("{stem}.wasm"))).collect()
        }
    };
    for ((stem, _, digest_var), wasm) in INTERPRETERS.iter().zip(guests) {
        let bytes = fs::read(&wasm).unwrap_or_else(|e| fail(&format!("cannot read the guest {}: {e}", wasm.display())));
        let digest = Sha256::digest(&bytes);
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        let dest = out_dir.join(format!("{stem}.wasm"));
        fs::write(&dest, &bytes).unwrap_or_else(|e| fail(&format!("cannot write {}: {e}", dest.display())));
        println!("cargo:rustc-env={digest_var}={hex}");
    }
}

/// Builds every guest; returns the folder the `.wasm` files land in.
fn build_guests(root: &Path, out_dir: &Path) -> PathBuf {
    let guests = root.join("guests");
    for watched in ["wit", "guests"] {
        println!("cargo:rerun-if-changed={}", root.join(watched).display());
    }
    let rustc = check_wasm_target();
    let cc = find_tool("AIRLOCK_WASM_CC", &["clang-19", "clang"]);
    let ar = find_tool("AIRLOCK_WASM_AR", &["llvm-ar-19", "llvm-ar"]);
    let sysroot = wasi_sysroot(out_dir);

    // A target dir of their own, shared by debug and release host builds.
    let target_dir = env::var_os("AIRLOCK_GUEST_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| cargo_target_dir(root, out_dir).join("guests"));
    // The cargo and rustc building the host (rust-toolchain.toml's), so the
    // guests never build with another toolchain.
    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .current_dir(&guests)
        .args(["build", "--release", "--locked", "--target", GUEST_TARGET, "--target-dir"])
        .arg(&target_dir)
        .env("RUSTC", &rustc)
        // rquickjs would otherwise download a WASI SDK; ours is Debian's.
        .env("RQUICKJS_SYS_NO_WASI_SDK", "1")
        .env("CC_wasm32_wasip2", &cc)
        .env("AR_wasm32_wasip2", &ar)
        .env("CFLAGS_wasm32_wasip2", format!("--sysroot={}", sysroot.display()));
    // Settings meant for the host build must not leak into the guest build.
    for var in
        ["RUSTFLAGS", "CARGO_ENCODED_RUSTFLAGS", "RUSTC_WORKSPACE_WRAPPER", "CARGO_TARGET_DIR", "CARGO_BUILD_TARGET"]
    {
        command.env_remove(var);
    }
    for (key, _) in env::vars_os() {
        if key.to_string_lossy().starts_with("CARGO_PROFILE_") || key.to_string_lossy().starts_with("CARGO_CFG_") {
            command.env_remove(key);
        }
    }
    let status = command.status().unwrap_or_else(|e| fail(&format!("cannot run cargo to build the guests: {e}")));
    if !status.success() {
        fail("building the guest components failed (see the cargo output above)");
    }
    target_dir.join(GUEST_TARGET).join("release")
}

/// The rustc cargo gave this build script, once its sysroot is known to
/// hold the guest target.
fn check_wasm_target() -> std::ffi::OsString {
    let rustc = env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let sysroot = Command::new(&rustc)
        .args(["--print", "sysroot"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
    let installed = sysroot.is_some_and(|s| s.join("lib/rustlib").join(GUEST_TARGET).exists());
    if !installed {
        fail(&format!(
            "the Rust target {GUEST_TARGET} is not installed: run `rustup target add {GUEST_TARGET}` (or `just setup`)"
        ));
    }
    rustc
}

fn find_tool(override_var: &str, candidates: &[&str]) -> String {
    println!("cargo:rerun-if-env-changed={override_var}");
    if let Ok(tool) = env::var(override_var) {
        return tool;
    }
    let on_path = |name: &str| {
        env::var_os("PATH").is_some_and(|path| env::split_paths(&path).any(|dir| dir.join(name).is_file()))
    };
    candidates.iter().find(|c| on_path(c)).map(|c| c.to_string()).unwrap_or_else(|| {
        fail(&format!(
            "none of {candidates:?} is on PATH: the JS guest needs a C compiler for wasm32 \
                 (Debian: `apt-get install clang-19 lld-19 llvm-19 libclang-rt-19-dev-wasm32 wasi-libc`, \
                 or `just setup`); {override_var} names another one"
        ))
    })
}

/// clang looks for headers in `<sysroot>/include/wasm32-wasip2`; Debian's
/// wasi-libc installs them under `/usr/include/wasm32-wasi`, so the build
/// lays out a sysroot that points there.
fn wasi_sysroot(out_dir: &Path) -> PathBuf {
    println!("cargo:rerun-if-env-changed=AIRLOCK_WASI_SYSROOT");
    if let Some(sysroot) = env::var_os("AIRLOCK_WASI_SYSROOT") {
        return PathBuf::from(sysroot);
    }
    let headers = Path::new("/usr/include/wasm32-wasi");
    if !headers.join("stdlib.h").exists() {
        fail(
            "the wasi-libc headers are missing (/usr/include/wasm32-wasi): \
             `apt-get install wasi-libc` (or `just setup`), or set AIRLOCK_WASI_SYSROOT",
        );
    }
    let sysroot = out_dir.join("wasi-sysroot");
    let include = sysroot.join("include");
    fs::create_dir_all(&include).unwrap_or_else(|e| fail(&format!("cannot create {}: {e}", include.display())));
    let link = include.join(GUEST_TARGET);
    if fs::read_link(&link).is_err() {
        let _ = fs::remove_file(&link);
        std::os::unix::fs::symlink(headers, &link)
            .unwrap_or_else(|e| fail(&format!("cannot link {}: {e}", link.display())));
    }
    sysroot
}

/// `target/` of the workspace being built, found above OUT_DIR
/// (`target/<profile>/build/<pkg>/out`).
fn cargo_target_dir(root: &Path, out_dir: &Path) -> PathBuf {
    if let Some(dir) = env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(dir);
    }
    out_dir
        .ancestors()
        .find(|p| p.file_name().is_some_and(|n| n == "build"))
        .and_then(|build| build.parent()?.parent())
        .map(Path::to_path_buf)
        .unwrap_or_else(|| root.join("target"))
}

fn fail(message: &str) -> ! {
    eprintln!("error: {message}");
    panic!("{message}");
}
