#!/usr/bin/env bash
# The Android demo's Compose screens (android-demo/ui) on the desktop JVM: Compose
# Multiplatform's desktop jars from Maven Central (the same androidx.compose.* packages),
# kotlinc's Compose compiler plugin, the real library through the generated bindings, and
# the UI tests run headless (docs/toolchain.md). Screenshots at a phone's size go to
# $CARGO_TARGET_DIR/screenshots (target/screenshots). Prints "compose-ui: N passed, M failed" last.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/kotlin-common.sh
out="$target/compose-ui"
shots="$target/screenshots"

# Skia draws text with the system's fonts (fontconfig): Debian's default, DejaVu.
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || apt_install fonts-dejavu-core

# Compose for the desktop JVM and Skia's Linux library, fetched once into .tools.
pom=android-demo/ui/desktop/pom.xml
lib="$tools/compose-desktop/lib"
if [ ! -f "$lib/.complete" ] || [ "$pom" -nt "$lib/.complete" ]; then
    rm -rf "$lib"
    mvn -B -q -Dstyle.color=never -Dmaven.repo.local="$tools/m2" -f "$pom" \
        dependency:copy-dependencies -DoutputDirectory="$lib" >&2
    touch "$lib/.complete"
fi
# kotlinc brings its own standard library, newer than the one Compose's pom names.
compose_classpath=$(find "$lib" -name '*.jar' ! -name 'kotlin-stdlib*' | sort | paste -sd: -)

rm -rf "$out" "$shots" && mkdir -p "$out/gen" "$out/classes" "$shots"
generate_bindings "$out/gen"

demo=android-demo
"$kotlin_home/bin/kotlinc-jvm" -nowarn -jvm-target 17 -Xplugin="$kotlin_home/lib/compose-compiler-plugin.jar" \
    -cp "$compose_classpath:$junit_classpath" -d "$out/classes" "$out/gen" \
    "$demo/app/src/main/java/uk/nhs/redbook/demo/presentation" "$demo/ui/src/main/java" "$demo/ui/src/test/java"

run_junit compose-ui "$out/report.txt" "$out/classes:$compose_classpath:$junit_classpath:$kotlin_home/lib/kotlin-stdlib.jar" \
    "$out/classes" -Djava.awt.headless=true -Dredbook.screenshots="$shots"
