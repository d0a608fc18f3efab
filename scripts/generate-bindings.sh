#!/usr/bin/env bash
# Builds the library and generates the bindings into target/bindings:
#   kotlin/          for the JVM (the binding tests, desktop tools)
#   kotlin-android/  with Android's settings (bindings/uniffi-android.toml), for android-demo
#   swift/           RedBookFFI.swift, the C header and modulemap, for ios-demo
# For devices, build the library per target first (cargo-ndk, or an xcframework; see
# the demos' READMEs); the generated sources are the same for every target.
set -euo pipefail
cd "$(dirname "$0")/.."
# Cargo's output directory: CARGO_TARGET_DIR when set (a build directory of its own).
target="${CARGO_TARGET_DIR:-target}"
cargo build --workspace --all-targets --locked --quiet
library="$target"/debug/libredbook_ffi.so
out=target/bindings
rm -rf "$out"
generate() {
    "$target"/debug/uniffi-bindgen generate --no-format --config "$1" --library "$library" --language "$2" --out-dir "$3" >/dev/null
}
generate uniffi.toml kotlin "$out/kotlin"
generate bindings/uniffi-android.toml kotlin "$out/kotlin-android"
generate uniffi.toml swift "$out/swift"
find "$out" -type f | sort
