#!/usr/bin/env bash
# The instruction budgets (core/benches/budgets.rs): the common paths' CPU work counted by
# valgrind's callgrind through gungraun; fails when one exceeds its committed budget by
# more than 10%. Installs valgrind and gungraun's runner (into .tools) when absent.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
runner_version=0.20.0 # the gungraun version in core/Cargo.toml

if ! command -v valgrind >/dev/null; then
    sudo=""
    [ "$(id -u)" = 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends valgrind >/dev/null
fi
runner="$root/.tools/gungraun/bin/gungraun-runner"
if ! "$runner" --version 2>/dev/null | grep -q "$runner_version"; then
    cargo install --quiet --locked gungraun-runner --version "$runner_version" --root "$root/.tools/gungraun"
fi
export PATH="$root/.tools/gungraun/bin:$PATH"

# The fixture files, written natively (under valgrind it would take minutes), built with
# the bench's profile and features so that the bench reuses every compiled crate.
# (scripts/test.sh's clippy step covers the bench's code.)
cargo run --quiet --locked --profile bench -p redbook-core --features budgets --example budget_fixtures >/dev/null
cargo bench --quiet --locked -p redbook-core --features budgets --bench budgets 2>&1 \
    | grep -E "^budgets::|Instructions:|exceeds|^Gungraun result" \
    | sed -E 's/^budgets::budgets:://'
