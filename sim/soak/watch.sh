#!/bin/sh
# Samples each soak node's RSS and open file descriptors every minute while `conveyor sim` runs:
#   sim/soak/watch.sh OUT_DIR > watch.tsv
# OUT_DIR is the simulation's --out; a node is found by its node-N.conf there.
out=${1:?usage: watch.sh OUT_DIR}
printf 'time\tnode\tpid\trss_kib\tfds\n'
while :; do
  for conf in "$out"/node-*.conf; do
    [ -e "$conf" ] || continue
    n=$(basename "$conf" .conf)
    for pid in $(pgrep -f "node $conf" 2>/dev/null); do
      rss=$(awk '/^VmRSS/ {print $2}' /proc/"$pid"/status 2>/dev/null)
      fds=$(ls /proc/"$pid"/fd 2>/dev/null | wc -l)
      [ -n "$rss" ] && printf '%s\t%s\t%s\t%s\t%s\n' "$(date -u +%H:%M:%S)" "$n" "$pid" "$rss" "$fds"
    done
  done
  sleep 60
done
