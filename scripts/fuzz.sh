#!/usr/bin/env bash
# Coverage-guided fuzzing (cargo fuzz, libFuzzer) of what a device accepts from others:
# received changes and sync messages, envelopes/invitations/cards/attestations, FHIR
# import, membership resolution, an entry's JSON read two ways. Usage: scripts/fuzz.sh
# SECONDS_PER_TARGET
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
# What a CI log needs to reproduce a crash found there: libFuzzer's verdict, the panic,
# and the input itself (base64) to put under fuzz/regressions/.
report_crash() {
    local log="$work/$1.log"
    grep -E "panicked|==ERROR|SUMMARY|out-of-memory|timeout|deadly signal" "$log" | head -20 >&2 || true
    tail -15 "$log" >&2
    for artifact in $(grep -o "artifacts/$1/[a-z-]*[0-9a-f]*" "$log" | sort -u); do
        if [ -f "$artifact" ] && [ "$(stat -c %s "$artifact")" -le 65536 ]; then
            echo "fuzz: $artifact (base64):" >&2
            base64 -w 0 "$artifact" >&2 && echo >&2
        fi
    done
    echo "fuzz: $1 crashed" >&2
}
for target in receive_changes envelopes fhir_import membership entry_json; do
    rm -rf "$work/$target" && mkdir -p "$work/$target"
    cp corpus/"$target"/* "$work/$target"/ 2>/dev/null || true
    if [ -d "regressions/$target" ]; then
        cargo fuzz run "$target" regressions/"$target"/* -- -runs=1 >/dev/null 2>&1 \
            || { echo "fuzz: $target fails on a regression input" >&2; exit 1; }
    fi
    # RUST_BACKTRACE=0: cargo-fuzz's own error backtrace would fill the tail shown below.
    RUST_BACKTRACE=0 cargo fuzz run "$target" "$work/$target" -- -max_total_time="$seconds" \
        2>"$work/$target.log" || { report_crash "$target"; exit 1; }
    echo "fuzz: $target $(grep -o 'Done [0-9]* runs' "$work/$target.log" | tail -1) in ${seconds}s, no crash"
done
