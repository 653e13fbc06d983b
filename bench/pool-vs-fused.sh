#!/usr/bin/env bash
# A CPU stage in an actor pool against the same stage fused into the decoders, interleaved rounds:
#   bench/pool-vs-fused.sh SHARDS_DIR [ROUNDS]
# SHARDS_DIR holds img-0000[0-3].tar (the reference corpus: bench/reference-corpus.sh DIR). Both
# runs are the examples' ImageCaptions pipeline over the 16,000 images (decoded 224x224, captioned by
# dev.conveyor.examples.Captioner, batches of 64, 2 ranks): `ImageCaptions` runs the captioner in a
# pool of 1 to 2 actors, `ImageCaptions$Fused` in each decoder. Same cores, same bytes delivered.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
dir="${1:?usage: bench/pool-vs-fused.sh SHARDS_DIR [ROUNDS]}"
jar="$here/examples/target/conveyor-examples.jar"
[ -f "$jar" ] || (cd "$here" && mvn -B -q -DskipTests -pl examples -am package)
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
for name in pooled fused; do
  class=dev.conveyor.examples.ImageCaptions; [ "$name" = fused ] && class='dev.conveyor.examples.ImageCaptions$Fused'
  cat > "$out/$name.conf" <<JOB
conveyor.job { pipeline = "$class", world-size = 2 }
JOB
done
"$here/bench/job-vs-job.sh" pooled "$out/pooled.conf" fused "$out/fused.conf" "${2:-5}" --classpath "$jar" \
  --shards "file://$dir/img-0000{0..3}.tar"
