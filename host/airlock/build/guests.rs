//! Building Rust guest components for `wasm32-wasip2` from a build script,
//! shared by the library's build script (the interpreter guests) and the
//! test fixtures' (the fixture components).

use std::env;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The target every guest component is built for.
pub const GUEST_TARGET: &str = "wasm32-wasip2";

/// The guests' own target folder, shared by debug and release host builds.
pub fn guest_target_dir(root: &Path, out_dir: &Path) -> PathBuf {
    env::var_os("AIRLOCK_GUEST_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| cargo_target_dir(root, out_dir).join("guests"))
}

/// Builds the Rust guest `packages` of the `guests/` workspace; returns the
/// folder the `.wasm` files land in. `needs_c` sets up clang and the
/// wasi-libc sysroot for guests with C inside (QuickJS).
pub fn build_rust_guests(root: &Path, out_dir: &Path, target_dir: &Path, packages: &[&str], needs_c: bool) -> PathBuf {
    let guests = root.join("guests");
    for watched in ["wit", "guests"] {
        println!("cargo:rerun-if-changed={}", root.join(watched).display());
    }
    let rustc = check_wasm_target();

    // The cargo and rustc building the host (rust-toolchain.toml's), so the
    // guests never build with another toolchain.
    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .current_dir(&guests)
        .args(["build", "--release", "--locked", "--target", GUEST_TARGET, "--target-dir"])
        .arg(target_dir)
        .env("RUSTC", &rustc);
    for package in packages {
        command.args(["-p", package]);
    }
    if needs_c {
        let cc = find_tool("AIRLOCK_WASM_CC", &["clang-19", "clang"]);
        let ar = find_tool("AIRLOCK_WASM_AR", &["llvm-ar-19", "llvm-ar"]);
        let sysroot = wasi_sysroot(out_dir);
        command
            // rquickjs would otherwise download a WASI SDK; ours is Debian's.
            .env("RQUICKJS_SYS_NO_WASI_SDK", "1")
            .env("CC_wasm32_wasip2", &cc)
            .env("AR_wasm32_wasip2", &ar)
            .env("CFLAGS_wasm32_wasip2", format!("--sysroot={}", sysroot.display()));
    }
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
        fail(&format!("building the guest components {packages:?} failed (see the cargo output above)"));
    }
    target_dir.join(GUEST_TARGET).join("release")
}

/// The rustc cargo gave this build script, once its sysroot is known to
/// hold the guest target.
pub fn check_wasm_target() -> std::ffi::OsString {
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

pub fn find_tool(override_var: &str, candidates: &[&str]) -> String {
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
pub fn wasi_sysroot(out_dir: &Path) -> PathBuf {
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
pub fn cargo_target_dir(root: &Path, out_dir: &Path) -> PathBuf {
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

pub fn fail(message: &str) -> ! {
    eprintln!("error: {message}");
    panic!("{message}");
}
