#!/usr/bin/env bash
# Fuzzes the PII engine (airlock-pii): runs every cargo-fuzz target in fuzz/
# for FUZZ_SECONDS (default 60) each; exits non-zero if any target fails.
# Optional arguments name the targets to run (default: all of them).
set -euo pipefail

seconds="${FUZZ_SECONDS:-60}"
fuzz_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/../fuzz" && pwd)"
log() { printf '\033[1m[fuzz]\033[0m %s\n' "$*" >&2; }

# cargo-fuzz drives libFuzzer; it needs a nightly toolchain at least as new
# as the crates' rust-version (an older nightly refuses to build them).
required="$(sed -n 's/^rust-version *= *"1\.\([0-9]*\).*/\1/p' "$fuzz_dir/../Cargo.toml")"
nightly_minor() { rustc +nightly --version 2>/dev/null | sed -n 's/^rustc 1\.\([0-9]*\).*/\1/p'; }
if [ -z "$(nightly_minor)" ] || [ "$(nightly_minor)" -lt "${required:-0}" ]; then
  log "installing a nightly toolchain (1.${required} or newer)"
  rustup toolchain install nightly --profile minimal --no-self-update
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
  log "installing cargo-fuzz"
  cargo install cargo-fuzz --locked
fi

cd "$fuzz_dir"
if [ "$#" -gt 0 ]; then
  targets=("$@")
else
  mapfile -t targets < <(cargo +nightly fuzz list)
fi

# libFuzzer writes new inputs into the first corpus directory: give it a
# scratch one so that the committed seeds in corpus/<target>/ stay as they are.
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT

failed=()
for target in "${targets[@]}"; do
  log "$target: ${seconds}s"
  mkdir -p "$scratch/$target" "corpus/$target"
  if ! cargo +nightly fuzz run "$target" "$scratch/$target" "corpus/$target" -- -max_total_time="$seconds"; then
    failed+=("$target")
  fi
done

if [ "${#failed[@]}" -gt 0 ]; then
  log "failed: ${failed[*]} (reproducers in $fuzz_dir/artifacts/)"
  exit 1
fi
log "all ${#targets[@]} targets ran ${seconds}s without a crash"
