#!/bin/bash
# Runs one of the compression benchmarks in bench/compress against the executor built from this
# working tree (the catalog's classes included):
#   bench/compress/run.sh speedup [--convnet-data DIR] [--resnet20-data DIR] [--rounds 7]
#       the acceptance numbers: int8 against fp32 at batch 256, one thread, thread CPU time,
#       median of paired rounds; prints "speedup int8-convnet <x>" and "speedup int8-resnet20 <x>".
#       The catalogs (defaults /tmp/cmp-data from convnet.sql, /tmp/r20run/data with the 15-epoch
#       resnet20) are copied first and only the copies are opened; without one, seeded weights.
#   bench/compress/run.sh Int8Profile [--model convnet|resnet20] [--threads 1] [--rounds 5]
#       [--batches 4] [--variant fp32_exact|int32|reference] [--data DIR] [--wall-layers] [--quiet]
#       per-layer int8 against fp32 (--wall-layers for the overall ratio)
#   bench/compress/run.sh SuperWordDot [n]  C2-vectorized int16 pair multiply-adds (VNNI) against fp32 FMA
#   bench/compress/run.sh CompressBench [--data DIR] [--rounds 5]  the convnet variants of
#       bench/compress/convnet.sql against their fp32 parent
# PROFILE_JAVA_OPTS adds JVM options (e.g. a flight recording).
set -euo pipefail
BENCH=${1:?usage: bench/compress/run.sh speedup|Int8Profile|CompressBench|SuperWordDot [options]}
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
bench() {
  # shellcheck disable=SC2086
  "$JAVA_HOME/bin/java" $DLSQL_JVM_FLAGS ${PROFILE_JAVA_OPTS:-} -cp "$CP" "$ROOT/bench/compress/$1.java" "${@:2}"
}
if [ "$BENCH" != speedup ]; then
  bench "$BENCH" "$@"
  exit
fi
convnet_data=/tmp/cmp-data
resnet20_data=/tmp/r20run/data
rounds=7
while [ $# -gt 0 ]; do
  case "$1" in
    --convnet-data) convnet_data=$2; shift 2 ;;
    --resnet20-data) resnet20_data=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 1 ;;
  esac
done
for model in convnet resnet20; do
  src=$([ "$model" = convnet ] && echo "$convnet_data" || echo "$resnet20_data")
  data=()
  if [ -d "$src/models" ]; then
    # The benchmark opens the catalog (a lock file): copy it so the original is never written.
    cp -a "$src" "$WORK/$model-data" && rm -f "$WORK/$model-data/LOCK"
    data=(--data "$WORK/$model-data")
  else
    echo "no catalog at $src: $model runs on seeded weights" >&2
  fi
  bench Int8Profile --model "$model" "${data[@]}" --rounds "$rounds" --batches 4 --wall-layers --quiet
done
