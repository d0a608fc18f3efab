# Sourced by scripts/kotlin-tests.sh and scripts/ui-tests.sh (from the repository's root):
# installs what Kotlin on the JVM needs here, builds the workspace once and generates the
# JVM bindings, and runs JUnit 5 with one summary line. See docs/toolchain.md.
tools="$(pwd)/.tools"
# Cargo's output directory: CARGO_TARGET_DIR when set (a build directory of its own).
target="${CARGO_TARGET_DIR:-target}"
java_lib=/usr/share/java

# apt_install PACKAGE...: Debian packages, when missing (as root; otherwise says so).
apt_install() {
    [ $# -gt 0 ] || return 0
    if [ "$(id -u)" != 0 ]; then
        echo "install $* (Debian packages) first" >&2
        exit 1
    fi
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}
need=()
[ -f "$java_lib/jna.jar" ] || need+=(libjna-java)
[ -f "$java_lib/junit-platform-console-standalone.jar" ] || need+=(junit5)
apt_install "${need[@]}"
kotlin_home="$tools/kotlin/node_modules/kotlin-compiler"
if [ ! -x "$kotlin_home/bin/kotlinc-jvm" ]; then
    npm install --silent --prefix "$tools/kotlin" --no-audit --no-fund kotlin-compiler@2.4.20 >/dev/null
fi

# kotlinx.coroutines from Maven Central: the bindings' long calls are suspend functions.
# 1.8.0 is the version Compose for the desktop 1.8.2 brings (android-demo/ui/desktop/pom.xml),
# so the presentation code runs on the same one in both scripts.
coroutines_jar="$tools/coroutines/kotlinx-coroutines-core-jvm-1.8.0.jar"
if [ ! -f "$coroutines_jar" ]; then
    mvn -B -q -Dstyle.color=never -Dmaven.repo.local="$tools/m2" dependency:copy \
        -Dartifact=org.jetbrains.kotlinx:kotlinx-coroutines-core-jvm:1.8.0 -DoutputDirectory="$tools/coroutines" >&2
fi

# JUnit 5's API and kotlin-test, to compile tests against.
junit_classpath="$java_lib/jna.jar:$kotlin_home/lib/kotlin-test.jar:$kotlin_home/lib/kotlin-test-junit5.jar"
for jar in junit-jupiter-api apiguardian-api opentest4j junit-platform-commons; do
    junit_classpath="$junit_classpath:$java_lib/$jar.jar"
done

# Build once for the whole workspace, then use the bindgen binary directly (docs/toolchain.md).
# --all-targets: the same features as the test build before it, so nothing recompiles.
cargo build --workspace --all-targets --locked --quiet

# generate_bindings DIR: the JVM variant of the Kotlin bindings (uniffi.toml) into DIR.
generate_bindings() {
    "$target/debug/uniffi-bindgen" generate --no-format --config uniffi.toml \
        --library "$target/debug/libredbook_ffi.so" --language kotlin --out-dir "$1" >/dev/null
}

# run_junit NAME REPORT CLASSPATH CLASSES [JAVA OPTION...]: runs every test in CLASSES
# against the real library, prints the report and "NAME: N passed, M failed" last;
# returns the launcher's status.
run_junit() {
    local name=$1 report=$2 classpath=$3 classes=$4 status=0
    shift 4
    java -Djna.library.path="$target/debug" -Dredbook.cli="$target/debug/redbook" "$@" \
        -jar "$java_lib/junit-platform-console-standalone.jar" \
        --disable-banner --fail-if-no-tests --details=tree \
        --class-path "$classpath" --scan-class-path "$classes" > "$report" 2>&1 || status=$?
    cat "$report"
    local passed failed
    passed=$(grep -Eo '\[ *[0-9]+ tests successful' "$report" | grep -Eo '[0-9]+' || echo 0)
    failed=$(grep -Eo '\[ *[0-9]+ tests failed' "$report" | grep -Eo '[0-9]+' || echo 0)
    echo "$name: $passed passed, $failed failed"
    return "$status"
}
