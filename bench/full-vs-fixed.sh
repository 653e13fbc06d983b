#!/usr/bin/env bash
# Full batches against batches of fixed plan positions over the same shards, interleaved rounds:
#   bench/full-vs-fixed.sh SHARDS_DIR [ROUNDS]
# SHARDS_DIR holds img-0000[0-3].tar (the reference corpus: bench/reference-corpus.sh DIR): 16,000
# images decoded (224x224 by default) in batches of 32 for 2 ranks, nothing filtered — so both give
# whole batches, and the figure is what the ranks' agreement on each batch (BatchGate) costs.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
dir="${1:?usage: bench/full-vs-fixed.sh SHARDS_DIR [ROUNDS]}"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
for full in true false; do
  cat > "$out/$full.conf" <<JOB
conveyor.job { shards = "file://$dir/img-0000{0..3}.tar", decode = auto, batch-size = 32, world-size = 2, full-batches = $full }
JOB
done
"$here/job-vs-job.sh" full "$out/true.conf" fixed "$out/false.conf" "${2:-5}"
