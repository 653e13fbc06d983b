#!/usr/bin/env bash
# The reference corpus that Conveyor's benchmarks run on: media encoded by Debian's ffmpeg (its
# mjpeg and libx264 encoders) and shards written by GNU tar, so that every byte read was written
# by someone else's tools.
#
#   bench/reference-corpus.sh DIR        (a few minutes on 2 cores; installs ffmpeg if missing)
#
#   DIR/raw/img/NNNNNN.jpg + .json     2,000 JPEGs of 256 x 256 (4:2:0, quality 3, with noise, so
#                                       that they do not compress trivially) and their labels
#   DIR/raw/vid/NNNNNN.mp4 + .txt      200 H.264 clips of 256 x 256, 60 frames at 30 fps, one GOP
#   DIR/shards/img-0000{0..3}.tar      4 x 4,000 samples (.jpg + .json): each picture under 8 keys
#   DIR/shards/vid-0000{0,1}.tar       2 x 500 samples (.mp4 + .txt): each clip under 5 keys
#   DIR/vid_concat.txt                 ffmpeg's concat list of the 200 clips (12,000 frames)
#
# docs/benchmarks.md says how the benchmarks use it.
set -euo pipefail
out=${1:?usage: bench/reference-corpus.sh DIR}
command -v ffmpeg >/dev/null || { apt-get update -qq && apt-get install -y -qq ffmpeg >/dev/null; }
mkdir -p "$out/raw/img" "$out/raw/vid" "$out/shards"
out=$(cd "$out" && pwd)
ff=(ffmpeg -hide_banner -loglevel error -y)

echo "reference-corpus: 2,000 JPEGs" >&2
"${ff[@]}" -f lavfi -i "mandelbrot=s=256x256:r=30,noise=alls=18:allf=t+u,format=yuvj420p" \
  -frames:v 1000 -q:v 3 -start_number 1 "$out/raw/img/%06d.jpg"
"${ff[@]}" -f lavfi -i "testsrc2=s=256x256:r=30,noise=alls=18:allf=t+u,format=yuvj420p" \
  -frames:v 1000 -q:v 3 -start_number 1001 "$out/raw/img/%06d.jpg"
for n in $(seq 1 2000); do
  key=$(printf '%06d' "$n")
  printf '{"key":"%s","label":%d,"width":256,"height":256}\n' "$key" $((n % 1000)) > "$out/raw/img/$key.json"
done

echo "reference-corpus: 200 H.264 clips" >&2
for n in $(seq 1 200); do
  key=$(printf '%06d' "$n")
  if (( n % 2 )); then
    source="mandelbrot=s=256x256:r=30:start_scale=$(awk -v n="$n" 'BEGIN { print 3.0 / n }')"
  else
    source="testsrc2=s=256x256:r=30"
  fi
  "${ff[@]}" -f lavfi -i "$source,noise=alls=10:allf=t+u:all_seed=$n,format=yuv420p" -frames:v 60 \
    -c:v libx264 -g 60 -pix_fmt yuv420p -movflags +faststart "$out/raw/vid/$key.mp4"
  printf 'clip %s from %s\n' "$key" "${source%%=*}" > "$out/raw/vid/$key.txt"
done
for f in "$out"/raw/vid/*.mp4; do printf "file '%s'\n" "$f"; done > "$out/vid_concat.txt"

# shard PREFIX SHARDS PER_SHARD UNIQUE MEDIA_EXT TEXT_EXT: sample g (7-digit key) holds unique item
# g % UNIQUE + 1; its text member names the key and the item, so that no two samples are equal
shard() {
  local prefix=$1 shards=$2 per=$3 unique=$4 media=$5 text=$6 stage
  for s in $(seq 0 $((shards - 1))); do
    stage=$(mktemp -d)
    for j in $(seq 0 $((per - 1))); do
      local g=$((s * per + j)) key item
      key=$(printf '%07d' "$g")
      item=$(printf '%06d' $((g % unique + 1)))
      ln "$out/raw/$prefix/$item.$media" "$stage/$key.$media"
      if [ "$text" = json ]; then
        printf '{"key":"%s","src":"%s","label":%d}\n' "$key" "$item" $((10#$item % 1000)) > "$stage/$key.json"
      else
        { printf 'key %s ' "$key"; cat "$out/raw/$prefix/$item.$text"; } > "$stage/$key.$text"
      fi
    done
    # GNU tar, members sorted (WebDataset groups consecutive members), fixed owner and time
    (cd "$stage" && ls | LC_ALL=C sort | tar --format=gnu --hard-dereference --owner=0 --group=0 --numeric-owner \
      --mtime=2024-01-01 -cf "$out/shards/$prefix-$(printf '%05d' "$s").tar" -T -)
    rm -rf "$stage"
  done
}
echo "reference-corpus: shards" >&2
shard img 4 4000 2000 jpg json
shard vid 2 500 200 mp4 txt
ls -l "$out/shards" >&2
