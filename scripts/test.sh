#!/usr/bin/env bash
# Runs every test of the project from a clean clone, installing what it needs first.
# CI calls exactly this (.ci/run); so does a newcomer (README).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
tools="$root/.tools"
work="$root/target/test-data"
mkdir -p "$tools" "$work"

if ! command -v cargo >/dev/null; then
    echo "cargo is not installed: install Rust (https://rustup.rs) first" >&2
    exit 1
fi

echo "== Set-up: rcpchgrowth (the growth oracle and the UK90 pack's source) in .tools/venv"
if [ ! -x "$tools/venv/bin/python" ]; then
    python3 -m venv "$tools/venv"
fi
"$tools/venv/bin/python" -c "import rcpchgrowth" 2>/dev/null \
    || "$tools/venv/bin/pip" install --quiet --disable-pip-version-check "rcpchgrowth==4.6.5"
py="$tools/venv/bin/python"
"$py" scripts/growth-tables.py who "$work/who_2006_lms.csv" >/dev/null
if ! cmp -s "$work/who_2006_lms.csv" core/data/who_2006_lms.csv; then
    echo "core/data/who_2006_lms.csv differs from what scripts/growth-tables.py builds" >&2
    exit 1
fi
"$py" scripts/growth-tables.py uk90 "$work/uk90-pack.csv"
"$py" scripts/growth-oracle.py "$work/growth-oracle.json"

echo "== Set-up: fhir.resources (an independent FHIR R4 validator) in .tools/fhir-venv"
# Its own venv: fhir.resources 6.0.0 models R4 (4.0.1; later releases R4B and R5) and needs
# pydantic 1, which the growth oracle's venv must not be pinned to.
if [ ! -x "$tools/fhir-venv/bin/python" ]; then
    python3 -m venv "$tools/fhir-venv"
fi
"$tools/fhir-venv/bin/python" -c "import fhir.resources" 2>/dev/null \
    || "$tools/fhir-venv/bin/pip" install --quiet --disable-pip-version-check \
        "fhir.resources==6.0.0" "pydantic==1.10.27"

echo "== Set-up: PostgreSQL's binaries (the relay's tests start private servers on loopback)"
if [ -z "${REDBOOK_PG_BIN:-}" ] && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    sudo=""
    [ "$(id -u)" = 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends postgresql >/dev/null
fi

echo "== Rust: clippy, every warning an error"
if ! cargo clippy --version >/dev/null 2>&1; then
    rustup component add clippy
fi
cargo clippy --workspace --all-targets --locked --quiet -- -D warnings

echo "== Rust: unit, store, crash, schedule, growth, relay (SQLite and PostgreSQL) and CLI tests"
cargo test --workspace --all-targets --locked

echo "== Rust: growth engine against the rcpchgrowth oracle (needs the files above)"
REDBOOK_UK90_PACK="$work/uk90-pack.csv" REDBOOK_GROWTH_ORACLE="$work/growth-oracle.json" \
    cargo test --locked -p redbook-tests --test growth_oracle -- --ignored

echo "== Rust: FHIR export checked by the independent validator"
REDBOOK_FHIR_PYTHON="$tools/fhir-venv/bin/python" \
    cargo test --locked -p redbook-tests --test export -- --ignored

echo "== Kotlin: the generated bindings on the JVM (JNA, JUnit 5)"
bash scripts/kotlin-tests.sh

echo "== Swift: the generated bindings parse, the C header compiles, every FFI symbol is exported"
bash scripts/swift-checks.sh

echo "== Fuzz: each target briefly (long runs by hand: scripts/fuzz.sh 3600)"
bash scripts/fuzz.sh "${REDBOOK_FUZZ_SECONDS:-30}"
