//! Shared helpers for the integration tests.

use std::path::PathBuf;

use airlock::{ExecutionResult, Language, Limits, Runtime, Session};

/// The folder the tests cache precompiled guests in: shared by every test
/// process of one build, so the guest is pre-initialised once.
pub fn cache_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/airlock-test-cache")
}

/// A runtime builder with the test cache folder.
pub fn builder() -> airlock::RuntimeBuilder {
    Runtime::builder().cache_dir(Some(cache_dir()))
}

/// Runs JavaScript in a fresh session of `runtime` under `limits`.
pub async fn run_js(runtime: &Runtime, code: &str, limits: &Limits) -> ExecutionResult {
    let session = runtime.session().expect("a session");
    run_in(&session, code, Language::JavaScript, limits).await
}

/// Runs `code` in `session`, panicking only on host failures (which no
/// guest code may cause).
pub async fn run_in(
    session: &Session,
    code: &str,
    language: Language,
    limits: &Limits,
) -> ExecutionResult {
    session
        .execute_with_limits(code, language, limits)
        .await
        .expect("the host itself must not fail")
}

/// Asserts that `result` succeeded, showing what went wrong if not.
pub fn assert_ok(result: &ExecutionResult) {
    assert!(
        result.is_success(),
        "execution failed: {:?}\nstdout: {}\nstderr: {}",
        result.error,
        result.stdout,
        result.stderr
    );
}
