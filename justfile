# Airlock's commands; CI runs `just test` (through scripts/just).

# List the recipes.
default:
    @just --list

# Install the toolchain and packages the build needs.
setup:
    bash scripts/setup.sh

# Build everything (the guest components are built by host/airlock/build.rs).
build:
    cargo build --workspace --all-targets

# Run every test: unit and integration tests and the examples (not
# `--all-targets`, which would also link a test harness for each binary
# built with `test = false`).
test:
    cargo test --workspace --tests --examples

# Formatting, lints and tests: the quality gates.
check:
    cargo fmt --all -- --check
    cargo fmt --manifest-path guests/Cargo.toml --all -- --check
    cargo clippy --workspace --all-targets -- -D warnings
    # Docs build without broken or private links.
    RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps
    # No module cycles (host/airlock/tests/all/architecture.rs), first: it fails fast.
    cargo test -p airlock --test all architecture
    cargo test --workspace --tests --examples

# The main job on one screen: an agent's code searches two real MCP servers' tools, filters 10,000 records, and PII shows as tokens; tokens against direct tool calling.
demo:
    cargo build --release -p airlock-cli
    bash scripts/demo.sh

# Run the embedding example (examples/embed.rs: the library from a Rust program).
embed:
    cargo run --release -p airlock --example embed

# Print the benchmark figures (release build).
bench:
    cargo build --release -p airlock-cli -p airlock-bench
    ./target/release/airlock-bench --upstream bench/mcp.json

# Compare the PII engine with Presidio on a labelled corpus (installs Presidio into bench/pii/.venv).
bench-pii:
    bash scripts/bench-pii.sh

# Fuzz the PII engine (nightly + cargo-fuzz; FUZZ_SECONDS per target, default 60).
fuzz:
    bash scripts/fuzz.sh

# Context tokens, direct tool calling vs code mode, against real servers (the 500-tool catalog and others).
bench-tokens:
    cargo build --release -p airlock-cli -p airlock-bench
    ./target/release/airlock-bench tokens

# Tool search: task recall of a simulated agent within three searches, tokens per task (with 95% intervals), recall@5, latency, on the tuning and both held-out sets.
bench-search:
    cargo build --release -p airlock-cli -p airlock-bench
    ./target/release/airlock-bench search

# The cost of calling a JS skill and a component skill over inlining their work; the Rust skill's first build and precompile.
bench-skills:
    cargo build --release -p airlock-cli -p airlock-bench
    ./target/release/airlock-bench skills

# Load figures for airlock serve (50 HTTP sessions x 20 executions; stdio round trip), from the Python SDK.
bench-serve:
    cargo build --release -p airlock-cli
    tests/servers/.venv/bin/python bench/serve/load.py

# Executions/s and p50/p99 through HAProxy with 1 and 3 instances over PostgreSQL, and the store's own cost, in one run.
bench-scale:
    cargo build --release -p airlock-cli
    tests/servers/.venv/bin/python bench/serve/scale.py

# Sessions opened, used and abandoned at 10/s for 10 minutes against `airlock serve --http` with a 10 s idle timeout; the server's RSS at start, peak and end.
soak-serve:
    cargo build --release -p airlock-cli
    tests/servers/.venv/bin/python bench/serve/soak.py
