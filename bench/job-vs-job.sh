#!/usr/bin/env bash
# Two job files against each other, in interleaved rounds in one call:
#   bench/job-vs-job.sh NAME_A JOB_A NAME_B JOB_B [ROUNDS [RUN_FLAGS...]]
# Runs `conveyor run --quiet JOB --summary-json RUN_FLAGS` for each (e.g. --classpath JAR), alternating
# which goes first, after one warm-up run of A (page cache, the jar). Prints each round's images/s (the
# summary's samples over its seconds: the job, start-up excluded) and each run's whole-process seconds
# (start to exit), then the medians, the median of the rounds' ratios A / B, and the median of the
# rounds' whole-process ratios (B's seconds over A's: A's speed relative to B's as a user sees it).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
[ $# -ge 4 ] || { echo "usage: bench/job-vs-job.sh NAME_A JOB_A NAME_B JOB_B [ROUNDS]" >&2; exit 2; }
name_a="$1"; job_a="$2"; name_b="$3"; job_b="$4"; rounds="${5:-5}"
shift $(( $# >= 5 ? 5 : 4 ))
flags=("$@")
summary="$(mktemp)"
trap 'rm -f "$summary"' EXIT
# "SAMPLES_PER_S WHOLE_SECONDS" of one run of job $1
rate() { local t0 t1; t0=$(date +%s.%N); "$here/bin/conveyor" run --quiet "$1" --summary-json "$summary" ${flags[@]+"${flags[@]}"} > /dev/null
  t1=$(date +%s.%N)
  /usr/bin/python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); print(round(s["samples"]/s["seconds"],1), round(float(sys.argv[3])-float(sys.argv[2]),2))' "$summary" "$t0" "$t1"; }
median() { sort -n | sed -n "$(( (rounds + 1) / 2 ))p"; }
rate "$job_a" > /dev/null
ratios=(); whole=(); as=(); bs=(); aw=(); bw=()
for r in $(seq 1 "$rounds"); do
  # the order alternates, so that neither side always runs on the machine the other has just warmed
  if [ $((r % 2)) -eq 1 ]; then read -r a at <<< "$(rate "$job_a")"; read -r b bt <<< "$(rate "$job_b")"
  else read -r b bt <<< "$(rate "$job_b")"; read -r a at <<< "$(rate "$job_a")"; fi
  echo "round $r: $name_a $a images/s (${at} s whole), $name_b $b images/s (${bt} s whole)"
  as+=("$a"); bs+=("$b"); aw+=("$at"); bw+=("$bt"); ratios+=("$(/usr/bin/python3 -c "print(round($a / $b, 3))")")
  whole+=("$(/usr/bin/python3 -c "print(round($bt / $at, 3))")")
done
echo "median: $name_a $(printf '%s\n' "${as[@]}" | median) images/s ($(printf '%s\n' "${aw[@]}" | median) s whole)," \
  "$name_b $(printf '%s\n' "${bs[@]}" | median) ($(printf '%s\n' "${bw[@]}" | median) s whole);" \
  "$name_a / $name_b $(printf '%s\n' "${ratios[@]}" | median) (rounds: ${ratios[*]});" \
  "whole process $(printf '%s\n' "${whole[@]}" | median) (rounds: ${whole[*]})"
