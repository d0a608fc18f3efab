#!/usr/bin/env bash
# The HL7 FHIR validator (HAPI FHIR 8.8.1, from Maven Central) with UK Core 2.0.0 and this
# project's profiles: builds it on first use, then validates each FILE (see
# scripts/ukcore-validator/src/main/java/uk/redbook/validator/Main.java for the rules).
#   scripts/ukcore-validate.sh validate FILE...
#   scripts/ukcore-validate.sh to-json OUT_DIR FILE.xml...
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
tool="$here/ukcore-validator"
stamp="$tool/target/built"
if [ ! -f "$stamp" ] || [ -n "$(find "$tool/src" "$tool/pom.xml" -newer "$stamp")" ]; then
    (cd "$tool" && mvn -B -q -Dstyle.color=never package dependency:build-classpath \
        -Dmdep.outputFile=target/classpath.txt >&2)
    touch "$stamp"
fi
command=$1
shift
exec java -Dredbook.profiles="$tool/profiles" \
    -cp "$tool/target/classes:$(cat "$tool/target/classpath.txt")" \
    uk.redbook.validator.Main "$command" "$here/../third_party/uk-core" "$@"
