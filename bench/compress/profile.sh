#!/bin/bash
# Per-layer profile of int8 against fp32 inference (bench/compress/Int8Profile.java), built from
# this working tree. Usage: bench/compress/profile.sh [--model convnet|resnet20] [--threads 1]
#   [--rounds 5] [--batches 4] [--variant fp32_exact|int32|reference]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DLSQL_HOME=$ROOT
. "$ROOT/bin/env.sh"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
(cd "$ROOT" && ./mvnw -B -q -ntp -pl executor -am compile >"$WORK/build.log" 2>&1) || {
  cat "$WORK/build.log" >&2; exit 1; }
(cd "$ROOT" && ./mvnw -B -q -ntp -pl executor dependency:build-classpath \
  -Dmdep.outputFile="$WORK/cp" >>"$WORK/build.log" 2>&1) || { cat "$WORK/build.log" >&2; exit 1; }
CP="$ROOT/executor/target/classes:$ROOT/catalog/target/classes:$(cat "$WORK/cp")"
uptime
# shellcheck disable=SC2086
"$JAVA_HOME/bin/java" $DLSQL_JVM_FLAGS ${PROFILE_JAVA_OPTS:-} -cp "$CP" "$ROOT/bench/compress/Int8Profile.java" "$@"
