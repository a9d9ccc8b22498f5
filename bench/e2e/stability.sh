#!/bin/bash
# Run-to-run stability of dlsql training: RUNS fresh JVMs of bench/e2e/Throughput.java, each
# training MODEL for STEPS steps on THREADS threads with per-layer times, one line per run
# (images/s and the summed convolution forward and backward milliseconds per step), then a
# summary. A JIT outcome that slows a kernel in some JVMs (the convolution backward boxed its
# vector accumulators in about half of all runs until 571f41a) shows as a backward/forward ratio
# far above the others: the summary names the slowest run against the median.
# Usage: bench/e2e/stability.sh [runs (10)] [model (convnet)] [steps (60)] [threads (2)]
set -euo pipefail
RUNS=${1:-10}
MODEL=${2:-convnet}
STEPS=${3:-60}
THREADS=${4:-2}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DLSQL_HOME=$ROOT
. "$ROOT/bin/env.sh"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

. "$ROOT/bench/e2e/classpath.sh"

echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
for run in $(seq 1 "$RUNS"); do
  # shellcheck disable=SC2086
  "$JAVA_HOME/bin/java" $DLSQL_JVM_FLAGS -cp "$CP" "$ROOT/bench/e2e/Throughput.java" \
    --model "$MODEL" --threads "$THREADS" --steps "$STEPS" --only train --layers 2>/dev/null \
    >"$WORK/run"
  awk -v run="$run" -v load="$(cut -d' ' -f1 /proc/loadavg)" '
    $1 == "train" { for (i = 1; i <= NF; i++) if ($(i + 1) == "img/s") rate = $i }
    $2 == "conv2d" { fwd += $4; bwd += $7 }
    END {
      if (rate == "") { print "run " run ": no result" > "/dev/stderr"; exit 1 }
      printf "run %2d  %8.1f img/s  conv fwd %8.2f ms  conv bwd %8.2f ms  bwd/fwd %5.2f  (load %s)\n",
        run, rate, fwd, bwd, bwd / fwd, load
    }' "$WORK/run" | tee -a "$WORK/lines"
done
median() {
  sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
rates=$(awk '{ print $3 }' "$WORK/lines")
ratios=$(awk '{ print $14 }' "$WORK/lines")
printf 'stability %s runs %d: img/s min %s median %s max %s (min/median %.2f); conv bwd/fwd median %s max %s\n' \
  "$MODEL" "$RUNS" "$(echo "$rates" | sort -g | head -1)" "$(echo "$rates" | median)" \
  "$(echo "$rates" | sort -g | tail -1)" \
  "$(awk -v a="$(echo "$rates" | sort -g | head -1)" -v b="$(echo "$rates" | median)" 'BEGIN { print a / b }')" \
  "$(echo "$ratios" | median)" "$(echo "$ratios" | sort -g | tail -1)"
