#!/usr/bin/env bash
# Kotlin binding tests on the desktop JVM: the generated bindings, JNA, the real library,
# JUnit 5, and the Android demo's presentation logic with its tests (see docs/toolchain.md). Installs what it needs; prints
# "kotlin: N passed, M failed" last.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/kotlin-common.sh
out="$target/kotlin"

rm -rf "$out" && mkdir -p "$out/gen" "$out/classes"
generate_bindings "$out/gen"

# The binding tests, and android-demo's presentation logic (plain Kotlin, no Android
# imports) with its tests: the same generated API the Android variant exposes.
demo=android-demo/app/src
"$kotlin_home/bin/kotlinc-jvm" -nowarn -cp "$junit_classpath:$coroutines_jar" -d "$out/classes" "$out/gen" tests/kotlin/*.kt \
    "$demo/main/java/uk/nhs/redbook/demo/presentation" "$demo/test/java/uk/nhs/redbook/demo/presentation"

run_junit kotlin "$out/report.txt" "$out/classes:$junit_classpath:$coroutines_jar:$kotlin_home/lib/kotlin-stdlib.jar" "$out/classes"
