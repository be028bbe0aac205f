#!/usr/bin/env bash
# Installs what building and testing Airlock needs on a fresh Debian/Ubuntu
# machine. Idempotent: what is already there is skipped.
set -euo pipefail

log() { printf '\033[1m[setup]\033[0m %s\n' "$*" >&2; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

# C toolchain for compiling QuickJS to wasm32-wasip2, and wasi-libc headers.
apt_packages=(clang-19 lld-19 llvm-19 libclang-rt-19-dev-wasm32 wasi-libc)
missing=()
for pkg in "${apt_packages[@]}"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
  log "installing ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# The guest components' Rust target.
if ! rustup target list --installed | grep -qx wasm32-wasip2; then
  log "adding the wasm32-wasip2 Rust target"
  rustup target add wasm32-wasip2
fi

# `just` runs the project's recipes.
if ! command -v just >/dev/null 2>&1; then
  log "installing just"
  cargo install --locked --quiet just
fi
# The real MCP servers the integration tests start.
bash "$(dirname "${BASH_SOURCE[0]}")/setup-servers.sh"
log "ready"
