#!/usr/bin/env bash
# Runs every test of the project from a clean clone, installing what it needs first.
# CI calls exactly this (.ci/run); so does a newcomer (README).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v cargo >/dev/null; then
    echo "cargo is not installed: install Rust (https://rustup.rs) first" >&2
    exit 1
fi

echo "== Rust: unit, store, crash and CLI tests"
cargo test --workspace --all-targets --locked
