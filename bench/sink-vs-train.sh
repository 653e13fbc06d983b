#!/usr/bin/env bash
# A batch job writing its samples to a sink against the same job feeding trainers, interleaved rounds:
#   bench/sink-vs-train.sh SHARDS_DIR [ROUNDS]
# SHARDS_DIR holds img-0000[0-3].tar (the reference corpus: bench/reference-corpus.sh DIR). Both runs
# are the examples' ImageCaptions over the 16,000 images (decoded 224x224, captioned in an actor pool,
# batches of 64, 2 ranks); one feeds the ranks' stand-in trainers, the other writes every sample (its
# json and its caption) as WebDataset shards of 64 MiB with their indexes and shards.json into a
# local folder (rewritten each round: its cursors go to a folder of their own, not resumed).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
dir="${1:?usage: bench/sink-vs-train.sh SHARDS_DIR [ROUNDS]}"
jar="$here/examples/target/conveyor-examples.jar"
[ -f "$jar" ] || (cd "$here" && mvn -B -q -DskipTests -pl examples -am package)
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
cat > "$out/train.conf" <<JOB
conveyor.job { pipeline = "dev.conveyor.examples.ImageCaptions", world-size = 2 }
JOB
cat > "$out/sink.conf" <<JOB
conveyor.job {
  pipeline = "dev.conveyor.examples.ImageCaptions", world-size = 2
  sink { to = "file://$out/written/", shard-size = 64MiB }
  checkpoint-dir = "$out/cursors"
}
JOB
"$here/bench/job-vs-job.sh" sink "$out/sink.conf" train "$out/train.conf" "${2:-5}" --classpath "$jar" \
  --shards "file://$dir/img-0000{0..3}.tar"
