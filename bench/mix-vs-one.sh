#!/usr/bin/env bash
# A mix of two sources against one source over the same shards, interleaved rounds in one call:
#   bench/mix-vs-one.sh SHARDS_DIR [ROUNDS]
# SHARDS_DIR holds img-0000[0-3].tar (the reference corpus: bench/reference-corpus.sh DIR). One source
# reads all four; the mix reads img-0000{0,1} and img-0000{2,3} at 0.5/0.5 — the same 16,000 images,
# decoded (224x224 by default) in batches of 32. Prints each round's images/s (--summary-json: the
# job's wall time) and each run's whole-process seconds, then the medians and the median ratio mix / one.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
dir="${1:?usage: bench/mix-vs-one.sh SHARDS_DIR [ROUNDS]}"
rounds="${2:-5}"
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
# "IMAGES_PER_S WHOLE_SECONDS" of one run
rate() { local t0 t1; t0=$(date +%s.%N); "$here/bin/conveyor" run --quiet "$out/$1.conf" --summary-json "$out/s.json" > /dev/null
  t1=$(date +%s.%N)
  /usr/bin/python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); print(round(s["samples"]/s["seconds"],1), round(float(sys.argv[3])-float(sys.argv[2]),2))' "$out/s.json" "$t0" "$t1"; }
median() { sort -n | sed -n "$(( (rounds + 1) / 2 ))p"; }
rate one > /dev/null # warm-up: page cache, the jar
ratios=(); ones=(); mixes=()
for r in $(seq 1 "$rounds"); do
  # the order alternates, so that neither side always runs on the machine the other has just warmed
  if [ $((r % 2)) -eq 1 ]; then read -r o ow <<< "$(rate one)"; read -r m mw <<< "$(rate mix)"
  else read -r m mw <<< "$(rate mix)"; read -r o ow <<< "$(rate one)"; fi
  echo "round $r: one source $o images/s (${ow} s whole), mix $m images/s (${mw} s whole)"
  ones+=("$o"); mixes+=("$m"); ratios+=("$(/usr/bin/python3 -c "print(round($m / $o, 3))")")
done
echo "median: one source $(printf '%s\n' "${ones[@]}" | median) images/s, mix $(printf '%s\n' "${mixes[@]}" | median); mix / one $(printf '%s\n' "${ratios[@]}" | median) (rounds: ${ratios[*]})"
