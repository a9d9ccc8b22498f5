#!/bin/bash
# Runs one of the compression benchmarks in bench/compress against the executor built from this
# working tree (the catalog's classes included):
#   bench/compress/run.sh Int8Profile [--model convnet|resnet20] [--threads 1] [--rounds 5]
#       [--batches 4] [--variant fp32_exact|int32|reference] [--data DIR] [--wall-layers]
#       per-layer int8 against fp32 (--wall-layers for the overall ratio)
#   bench/compress/run.sh CompressBench [--data DIR] [--rounds 5]  the convnet variants of
#       bench/compress/convnet.sql against their fp32 parent
# PROFILE_JAVA_OPTS adds JVM options (e.g. a flight recording).
set -euo pipefail
BENCH=${1:?usage: bench/compress/run.sh Int8Profile|CompressBench [options]}
shift
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
"$JAVA_HOME/bin/java" $DLSQL_JVM_FLAGS ${PROFILE_JAVA_OPTS:-} -cp "$CP" "$ROOT/bench/compress/$BENCH.java" "$@"
