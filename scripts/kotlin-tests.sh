#!/usr/bin/env bash
# Kotlin binding tests on the desktop JVM: the generated bindings, JNA, the real library,
# JUnit 5, and the Android demo's presentation logic with its tests (see docs/toolchain.md). Installs what it needs; prints
# "kotlin: N passed, M failed" last.
set -euo pipefail
cd "$(dirname "$0")/.."
tools="$(pwd)/.tools"
# Cargo's output directory: CARGO_TARGET_DIR when set (a build directory of its own).
target="${CARGO_TARGET_DIR:-target}"
out="$target/kotlin"

need=()
[ -f /usr/share/java/jna.jar ] || need+=(libjna-java)
[ -f /usr/share/java/junit-platform-console-standalone.jar ] || need+=(junit5)
if [ ${#need[@]} -gt 0 ]; then
    if [ "$(id -u)" != 0 ]; then
        echo "install ${need[*]} (Debian packages) first" >&2
        exit 1
    fi
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
kotlin_home="$tools/kotlin/node_modules/kotlin-compiler"
if [ ! -x "$kotlin_home/bin/kotlinc-jvm" ]; then
    npm install --silent --prefix "$tools/kotlin" --no-audit --no-fund kotlin-compiler@2.4.20 >/dev/null
fi

# Build once for the whole workspace, then use the bindgen binary directly (docs/toolchain.md).
# --all-targets: the same features as the test build before it, so nothing recompiles.
cargo build --workspace --all-targets --locked --quiet
rm -rf "$out" && mkdir -p "$out/gen" "$out/classes"
"$target/debug/uniffi-bindgen" generate --no-format --config uniffi.toml \
    --library "$target/debug/libredbook_ffi.so" --language kotlin --out-dir "$out/gen" >/dev/null

java_lib=/usr/share/java
classpath="$java_lib/jna.jar:$kotlin_home/lib/kotlin-test.jar:$kotlin_home/lib/kotlin-test-junit5.jar"
for jar in junit-jupiter-api apiguardian-api opentest4j junit-platform-commons; do
    classpath="$classpath:$java_lib/$jar.jar"
done
# The binding tests, and android-demo's presentation logic (plain Kotlin, no Android
# imports) with its tests: the same generated API the Android variant exposes.
demo=android-demo/app/src
"$kotlin_home/bin/kotlinc-jvm" -nowarn -cp "$classpath" -d "$out/classes" "$out/gen" tests/kotlin/*.kt \
    "$demo/main/java/uk/nhs/redbook/demo/presentation" "$demo/test/java/uk/nhs/redbook/demo/presentation"

status=0
java -Djna.library.path="$target/debug" -Dredbook.cli="$target/debug/redbook" -jar "$java_lib/junit-platform-console-standalone.jar" \
    --disable-banner --fail-if-no-tests --details=tree \
    --class-path "$out/classes:$classpath:$kotlin_home/lib/kotlin-stdlib.jar" \
    --scan-class-path "$out/classes" > "$out/report.txt" 2>&1 || status=$?
cat "$out/report.txt"
passed=$(grep -Eo '\[ *[0-9]+ tests successful' "$out/report.txt" | grep -Eo '[0-9]+' || echo 0)
failed=$(grep -Eo '\[ *[0-9]+ tests failed' "$out/report.txt" | grep -Eo '[0-9]+' || echo 0)
echo "kotlin: $passed passed, $failed failed"
exit "$status"
