#!/usr/bin/env bash
# Airlock's PII engine against Microsoft Presidio's pattern recognizers on a
# generated labelled corpus (bench/pii). Extra arguments go to compare.py,
# e.g. `scripts/bench-pii.sh --n 200 --json`.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bench="$root/bench/pii"
venv="$bench/.venv"

if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$bench/requirements.txt"

(cd "$root" && cargo build --release -p airlock-cli)

exec "$venv/bin/python" "$bench/compare.py" --airlock "$root/target/release/airlock" "$@"
