#!/usr/bin/env bash
# A mix of two sources against one source over the same shards, interleaved rounds in one call:
#   bench/mix-vs-one.sh SHARDS_DIR [ROUNDS]
# SHARDS_DIR holds img-0000[0-3].tar (the reference corpus: bench/reference-corpus.sh DIR). One source
# reads all four; the mix reads img-0000{0,1} and img-0000{2,3} at 0.5/0.5 — the same 16,000 images,
# decoded (224x224 by default) in batches of 32. Prints each round's images/s (--summary-json: the
# job's wall time) and each run's whole-process seconds, then the medians and the median ratio mix / one.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
dir="${1:?usage: bench/mix-vs-one.sh SHARDS_DIR [ROUNDS]}"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
cat > "$out/one.conf" <<JOB
conveyor.job { shards = "file://$dir/img-0000{0..3}.tar", decode = auto, batch-size = 32 }
JOB
cat > "$out/mix.conf" <<JOB
conveyor.job {
  sources = [ { shards = "file://$dir/img-0000{0,1}.tar", weight = 0.5 }, { shards = "file://$dir/img-0000{2,3}.tar", weight = 0.5 } ]
  decode = auto, batch-size = 32
}
JOB
"$here/job-vs-job.sh" mix "$out/mix.conf" one "$out/one.conf" "${2:-5}"
