#!/usr/bin/env bash
# Runs every test of the project from a clean clone, installing what it needs first.
# CI calls exactly this (.ci/run); so does a newcomer (README).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
tools="$root/.tools"
work="$root/target/test-data"
mkdir -p "$tools" "$work"
# Each step's heading carries the time, so a CI log shows where its minutes went.
step() { echo "== $* ($(date -u +%T))"; }

if ! command -v cargo >/dev/null; then
    echo "cargo is not installed: install Rust (https://rustup.rs) first" >&2
    exit 1
fi

step "Docs: the drawing of crates and core modules in docs/architecture.md is the code's"
python3 scripts/architecture.py --check

step "Set-up: rcpchgrowth (the growth oracle and the UK90 pack's source) in .tools/venv"
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

step "Set-up: the HL7 FHIR validator (HAPI FHIR, Maven Central) with UK Core, built once"
if ! command -v mvn >/dev/null || ! command -v java >/dev/null; then
    sudo=""
    [ "$(id -u)" = 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
        openjdk-17-jdk-headless maven >/dev/null
fi
bash scripts/ukcore-validate.sh to-json "$work/uk-core-examples" \
    third_party/uk-core/examples/UKCore-Patient-*.xml \
    third_party/uk-core/examples/UKCore-Immunization-*.xml \
    third_party/uk-core/examples/UKCore-Observation-VitalSigns-{BodyWeight,BodyHeight,HeadCircumference,BMI}-Example.xml
for converted in "$work"/uk-core-examples/*.json; do
    if ! cmp -s "$converted" "tests/fixtures/uk-core/$(basename "$converted")"; then
        echo "tests/fixtures/uk-core/$(basename "$converted") differs from the example converted from third_party/uk-core" >&2
        exit 1
    fi
done

step "Set-up: PostgreSQL's binaries (the relay's tests start private servers on loopback)"
if [ -z "${REDBOOK_PG_BIN:-}" ] && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    sudo=""
    [ "$(id -u)" = 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends postgresql >/dev/null
fi

step "Rust: clippy, every warning an error"
if ! cargo clippy --version >/dev/null 2>&1; then
    rustup component add clippy
fi
# With the instruction budgets bench (a feature, as `cargo test` cannot run it).
cargo clippy --workspace --all-targets --features redbook-core/budgets --locked --quiet -- -D warnings

step "Rust: unit, store, crash, schedule, growth, relay (SQLite and PostgreSQL) and CLI tests"
# Every FHIR export the tests make is kept for the validator below.
rm -rf "$work/fhir-exports"
REDBOOK_FHIR_EXPORTS="$work/fhir-exports" cargo test --workspace --all-targets --locked

step "Rust: instruction budgets of the common paths (callgrind; fails above 110% of a budget)"
bash scripts/budgets.sh

step "Rust: growth engine against the rcpchgrowth oracle (needs the files above)"
# --workspace, as above: the same features, so nothing is built again.
REDBOOK_UK90_PACK="$work/uk90-pack.csv" REDBOOK_GROWTH_ORACLE="$work/growth-oracle.json" \
    cargo test --workspace --locked --test growth_oracle -- --ignored

step "FHIR: the demo's records and every export the tests made, against UK Core (HL7 validator)"
rm -rf "$work/demo"
mkdir -p "$work/demo"
(cd "$work/demo" && cargo run --quiet --locked --manifest-path "$root/Cargo.toml" -p redbook-cli -- demo >/dev/null)
for bundle in "$work"/demo/redbook-demo/*.fhir.json; do
    cp "$bundle" "$work/fhir-exports/demo-$(basename "$bundle")"
done
bash scripts/ukcore-validate.sh validate "$work"/fhir-exports/*.json

step "Kotlin: the generated bindings on the JVM (JNA, JUnit 5)"
bash scripts/kotlin-tests.sh

step "Compose UI: the Android demo's screens on the desktop JVM, headless, with screenshots"
bash scripts/ui-tests.sh

step "Swift: the generated bindings parse, the C header compiles, every FFI symbol is exported"
bash scripts/swift-checks.sh

step "Fuzz: each target briefly (long runs by hand: scripts/fuzz.sh 3600)"
bash scripts/fuzz.sh "${REDBOOK_FUZZ_SECONDS:-20}"
step "Done"
