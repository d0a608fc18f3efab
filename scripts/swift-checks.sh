#!/usr/bin/env bash
# The Swift bindings and app code checked as far as Linux allows (see swift-check.py).
set -euo pipefail
cd "$(dirname "$0")/.."
py=.tools/venv/bin/python
[ -x "$py" ] || python3 -m venv .tools/venv
"$py" -c "import tree_sitter, tree_sitter_swift" 2>/dev/null \
    || .tools/venv/bin/pip install --quiet --disable-pip-version-check "tree-sitter==0.26.1" "tree-sitter-swift==0.7.4"
# Cargo's output directory: CARGO_TARGET_DIR when set (a build directory of its own).
target="${CARGO_TARGET_DIR:-target}"
cargo build --workspace --all-targets --locked --quiet
out="$target"/swift
rm -rf "$out" && mkdir -p "$out"
"$target"/debug/uniffi-bindgen generate --no-format --config uniffi.toml \
    --library "$target"/debug/libredbook_ffi.so --language swift --out-dir "$out" >/dev/null
dirs=("$out")
[ -d ios-demo ] && dirs+=(ios-demo)
swift_files=$(find "${dirs[@]}" -name '*.swift' | sort)
"$py" scripts/swift-check.py "$target"/debug/libredbook_ffi.so $swift_files "$out"/*.h
