#!/usr/bin/env bash
# Installs what building and testing Airlock needs on a fresh Debian/Ubuntu
# machine. Idempotent: what is already there is skipped.
set -euo pipefail

log() { printf '\033[1m[setup]\033[0m %s\n' "$*" >&2; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

# C toolchain for compiling QuickJS to wasm32-wasip2, and wasi-libc headers;
# PostgreSQL and HAProxy, which the multi-instance tests start on loopback.
apt_packages=(clang-19 lld-19 llvm-19 libclang-rt-19-dev-wasm32 wasi-libc postgresql haproxy)
missing=()
for pkg in "${apt_packages[@]}"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
  log "installing ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# The pinned Rust toolchain (rust-toolchain.toml) with its components and the
# guests' target. Installed explicitly: with RUSTUP_AUTO_INSTALL=0 rustup
# would only fail at the first cargo call.
command -v rustup >/dev/null 2>&1 || { log "error: rustup is required (https://rustup.rs)"; exit 1; }
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
toolchain_file="$root/rust-toolchain.toml"
toml_list() { sed -n "s/^$1 *= *\[\(.*\)\]/\1/p" "$toolchain_file" | tr -d '" ' | tr ',' ' '; }
channel="$(sed -n 's/^channel *= *"\(.*\)"/\1/p' "$toolchain_file")"
[ -n "$channel" ] || { log "error: no channel in $toolchain_file"; exit 1; }
read -ra components <<<"$(toml_list components)"
read -ra targets <<<"$(toml_list targets)"
if ! rustup toolchain list | grep -q "^$channel-"; then
  log "installing the Rust toolchain $channel"
  rustup --quiet toolchain install "$channel" --profile minimal --no-self-update
fi
installed="$(rustup component list --installed --toolchain "$channel")"
for component in "${components[@]}"; do
  if ! grep -q "^$component-" <<<"$installed"; then
    log "adding the $component component to Rust $channel"
    rustup --quiet component add --toolchain "$channel" "$component"
  fi
done
for target in "${targets[@]}"; do
  if ! grep -q "^rust-std-$target\$" <<<"$installed"; then
    log "adding the $target target to Rust $channel"
    rustup --quiet target add --toolchain "$channel" "$target"
  fi
done

# componentize-py builds the CPython guest (host/build.rs runs it), from a
# virtualenv of its own, pinned in guests/python/requirements.txt.
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
guest_venv="$root/guests/python/.venv"
guest_requirements="$root/guests/python/requirements.txt"
guest_stamp="$guest_venv/.requirements.sha256"
guest_sum="$(sha256sum "$guest_requirements" | awk '{print $1}')"
if [ ! -x "$guest_venv/bin/componentize-py" ] || [ ! -f "$guest_stamp" ] || [ "$(cat "$guest_stamp")" != "$guest_sum" ]; then
  log "installing componentize-py (guests/python/requirements.txt)"
  if ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
  fi
  rm -rf "$guest_venv"
  python3 -m venv "$guest_venv"
  "$guest_venv/bin/python" -m pip install -q --disable-pip-version-check -r "$guest_requirements"
  printf '%s\n' "$guest_sum" >"$guest_stamp"
fi

# `just` runs the project's recipes.
if ! command -v just >/dev/null 2>&1; then
  log "installing just"
  cargo install --locked --quiet just
fi
# The real MCP servers the integration tests start.
bash "$(dirname "${BASH_SOURCE[0]}")/setup-servers.sh"
log "ready"
