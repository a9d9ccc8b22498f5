#!/bin/bash
# End-to-end comparison of dlsql against PyTorch on this machine, run back to back.
#
# For each model (the anchor convnet and ResNet-20 on Fashion-MNIST) and each of PAIRS pairs,
# runs PyTorch (torch_fashion.py) and dlsql (bench/e2e/Throughput.java) with the same thread
# count, batch sizes (training 128, inference 256) and step count, alternating which goes first,
# and prints every run and then one line per comparison:
#   ratio <model>-<train|infer> <median over pairs of dlsql images/s / PyTorch images/s>
# Usage: bench/compare.sh [pairs (5)] [steps (60)] [threads (2)]
#   DLSQL_MODELS="convnet resnet20"   models to compare
#   DLSQL_ARGS="--algorithm winograd" extra arguments for the dlsql side
#   TORCH_SCRIPT=/path/to/torch_fashion.py   the PyTorch side (default: ../shared/anchors/)
# Timing on a shared machine varies by up to 2x from run to run: read the paired ratios, not
# single runs, and say whether the machine was loaded.
set -euo pipefail
PAIRS=${1:-5}
STEPS=${2:-60}
THREADS=${3:-2}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DLSQL_HOME=$ROOT
. "$ROOT/bin/env.sh"
MODELS=${DLSQL_MODELS:-convnet resnet20}
TORCH_SCRIPT=${TORCH_SCRIPT:-$ROOT/../shared/anchors/torch_fashion.py}
[ -f "$TORCH_SCRIPT" ] || TORCH_SCRIPT=/work/shared/anchors/torch_fashion.py
PYTHON=${PYTHON:-/usr/bin/python3}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

. "$ROOT/bench/e2e/classpath.sh"

run_dlsql() {
  # shellcheck disable=SC2086
  "$JAVA_HOME/bin/java" $DLSQL_JVM_FLAGS -cp "$CP" "$ROOT/bench/e2e/Throughput.java" \
    --model "$1" --threads "$THREADS" --batch 128 --steps "$STEPS" --infer-batch 256 \
    ${DLSQL_ARGS:-} 2>/dev/null
}

run_torch() {
  "$PYTHON" "$TORCH_SCRIPT" --model "$1" --threads "$THREADS" --batch 128 --steps "$STEPS" 2>/dev/null
}

# The images/s figure of the line starting with $1 ("train" or "infer").
rate() {
  awk -v kind="$1" '$1 == kind { for (i = 1; i <= NF; i++) if ($(i + 1) == "img/s" || $(i + 1) == "img/s;") { print $i; exit } }'
}

median() {
  sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) { print "nan"; exit } if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
for model in $MODELS; do
  : >"$WORK/$model.train"
  : >"$WORK/$model.infer"
  for pair in $(seq 1 "$PAIRS"); do
    if [ $((pair % 2)) -eq 1 ]; then
      d=$(run_dlsql "$model"); t=$(run_torch "$model")
    else
      t=$(run_torch "$model"); d=$(run_dlsql "$model")
    fi
    for kind in train infer; do
      dr=$(echo "$d" | rate $kind)
      tr=$(echo "$t" | rate $kind)
      if [ -z "$dr" ] || [ -z "$tr" ]; then
        echo "pair $pair $model $kind: a run failed" >&2
        echo "dlsql: $d" >&2
        echo "torch: $t" >&2
        exit 1
      fi
      ratio=$(awk -v a="$dr" -v b="$tr" 'BEGIN { printf "%.3f", a / b }')
      echo "$ratio" >>"$WORK/$model.$kind"
      printf 'pair %d %-8s %-5s dlsql %8.1f img/s  pytorch %8.1f img/s  ratio %s  (load %s)\n' \
        "$pair" "$model" "$kind" "$dr" "$tr" "$ratio" "$(cut -d' ' -f1 /proc/loadavg)"
    done
  done
done
for model in $MODELS; do
  for kind in train infer; do
    printf 'ratio %s-%s %.2f\n' "$model" "$kind" "$(median <"$WORK/$model.$kind")"
  done
done
