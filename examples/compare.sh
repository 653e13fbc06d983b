#!/usr/bin/env bash
# The example pipelines against the flag-only run of the same recipe, interleaved rounds in one call:
#   examples/compare.sh SHARDS_DIR [ROUNDS]
# SHARDS_DIR holds img-*.tar and vid-*.tar (the reference corpus: bench/reference-corpus.sh DIR).
# Prints each round's samples/s (from --summary-json: the job's wall time, not the JVM's start) and the
# median ratio pipeline / flags for each example: of samples delivered per second, and of plan
# positions per second (delivered + filtered: the input consumed, the fair figure for a pipeline
# whose filter leaves samples out).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
dir="${1:?usage: examples/compare.sh SHARDS_DIR [ROUNDS]}"
rounds="${2:-5}"
jar="$here/examples/target/conveyor-examples.jar"
[ -f "$jar" ] || (cd "$here" && mvn -B -q -DskipTests -pl examples -am package)
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
img="file://$dir/img-{00000..00003}.tar"
vid="file://$dir/vid-{00000..00001}.tar"
image_flags=(--decode auto --batch-size 64 --set conveyor.decode.image.short-side=256
  --set conveyor.decode.image.crop-height=224 --set conveyor.decode.image.crop-width=224
  --set conveyor.decode.augment.random-crop=on --set conveyor.decode.augment.horizontal-flip=on)
clip_flags=(--decode auto --batch-size 8 --set conveyor.decode.video.frames=8 --set conveyor.decode.video.short-side=112
  --set conveyor.decode.video.crop-height=112 --set conveyor.decode.video.crop-width=112
  --set conveyor.decode.video.sampling=stride --set conveyor.decode.video.stride=2)
# "DELIVERED_PER_S POSITIONS_PER_S" of one run
rate() { "$here/bin/conveyor" run --quiet --world 2 --summary-json "$out/s.json" "$@" > /dev/null
  /usr/bin/python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); print(round(s["samples"]/s["seconds"],1), round((s["samples"]+s["filtered"])/s["seconds"],1))' "$out/s.json"; }
median() { sort -n | sed -n "$(( (rounds + 1) / 2 ))p"; }
for example in ImageClassifier VideoClipSampler; do
  if [ "$example" = ImageClassifier ]; then shards="$img"; flags=("${image_flags[@]}"); else shards="$vid"; flags=("${clip_flags[@]}"); fi
  rate --shards "$shards" "${flags[@]}" > /dev/null   # warm-up: page cache
  delivered=()
  positions=()
  for r in $(seq 1 "$rounds"); do
    # the order alternates, so that neither side always runs on the machine the other has just warmed
    if [ $((r % 2)) -eq 1 ]; then
      read -r fd fp <<< "$(rate --shards "$shards" "${flags[@]}")"
      read -r pd pp <<< "$(rate --shards "$shards" --pipeline "dev.conveyor.examples.$example" --classpath "$jar")"
    else
      read -r pd pp <<< "$(rate --shards "$shards" --pipeline "dev.conveyor.examples.$example" --classpath "$jar")"
      read -r fd fp <<< "$(rate --shards "$shards" "${flags[@]}")"
    fi
    delivered+=("$(/usr/bin/python3 -c "print(round($pd / $fd, 3))")")
    positions+=("$(/usr/bin/python3 -c "print(round($pp / $fp, 3))")")
    echo "$example round $r: pipeline $pd samples/s ($pp positions/s), flags $fd samples/s"
  done
  echo "$example: median pipeline/flags $(printf '%s\n' "${delivered[@]}" | median) of samples delivered per second," \
    "$(printf '%s\n' "${positions[@]}" | median) of plan positions per second"
done
