#!/usr/bin/env bash
# Coverage-guided fuzzing (cargo fuzz, libFuzzer) of what a device accepts from others:
# received changes and sync messages, envelopes/invitations/cards/attestations, FHIR
# import, membership resolution. Usage: scripts/fuzz.sh SECONDS_PER_TARGET
# cargo fuzz needs -Z flags; RUSTC_BOOTSTRAP=1 lets the stable toolchain take them
# (TOOLCHAIN.md). Installs cargo-fuzz into .tools/cargo. The committed corpus is copied,
# so a run never changes the repository; regressions/ holds inputs that once crashed.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-30}"
root=$(pwd)
tools="$root/.tools/cargo"
if [ ! -x "$tools/bin/cargo-fuzz" ]; then
    cargo install --quiet --locked --root "$tools" cargo-fuzz --version 0.13.2
fi
export PATH="$tools/bin:$PATH" RUSTC_BOOTSTRAP=1
cd fuzz
cargo fuzz build 2>&1 | tail -1
work="$root/target/fuzz-corpus"
for target in receive_changes envelopes fhir_import membership; do
    rm -rf "$work/$target" && mkdir -p "$work/$target"
    cp corpus/"$target"/* "$work/$target"/ 2>/dev/null || true
    if [ -d "regressions/$target" ]; then
        cargo fuzz run "$target" regressions/"$target"/* -- -runs=1 >/dev/null 2>&1 \
            || { echo "fuzz: $target fails on a regression input" >&2; exit 1; }
    fi
    cargo fuzz run "$target" "$work/$target" -- -max_total_time="$seconds" 2>"$work/$target.log" \
        || { tail -40 "$work/$target.log" >&2; echo "fuzz: $target crashed" >&2; exit 1; }
    echo "fuzz: $target $(grep -o 'Done [0-9]* runs' "$work/$target.log" | tail -1) in ${seconds}s, no crash"
done
