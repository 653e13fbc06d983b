#!/usr/bin/env bash
# Makes the tar fixtures of TarCompatibilityTest: the same files packed by GNU tar (GNU and
# POSIX/PAX formats) and by Python's tarfile (GNU and PAX formats). Committed; rerun to
# refresh:  bash make-fixtures.sh   (needs GNU tar and python3)
set -euo pipefail
cd "$(dirname "$0")"
src=$(mktemp -d)
trap 'rm -rf "$src"' EXIT
long="long/$(printf 'd%.0s' {1..60})/$(printf 'e%.0s' {1..60})"
mkdir -p "$src/a/b" "$src/$long"
printf '\xff\xd8jpeg-ish bytes one\xff\xd9' > "$src/000001.jpg"
printf '{"label": 1}\n' > "$src/000001.json"
printf 'segmented image bytes' > "$src/000002.seg.jpg"
printf '{"label": 2}\n' > "$src/000002.json"
head -c 3000 /dev/zero | tr '\0' 'x' > "$src/a/b/000003.jpg"
printf '{"label": 3}\n' > "$src/a/b/000003.json"
printf 'text in a very long path\n' > "$src/$long/000004.txt"
: > "$src/000005.txt"
printf '5\n' > "$src/000005.cls"
list=(000001.jpg 000001.json 000002.seg.jpg 000002.json a a/b a/b/000003.jpg a/b/000003.json "$long/000004.txt" 000005.txt 000005.cls)
printf '%s\n' "${list[@]}" > "$src/.list"
common=(--owner=0 --group=0 --numeric-owner --mtime=2024-01-01 --no-recursion -C "$src" -T "$src/.list")
tar --format=gnu -cf gnu-tar-gnu.tar "${common[@]}"
tar --format=posix --pax-option=delete=atime,delete=ctime -cf gnu-tar-pax.tar "${common[@]}"
python3 - "$src" <<'PY'
import sys, tarfile
src = sys.argv[1]
names = open(src + "/.list").read().split("\n")[:-1]
for fmt, out in ((tarfile.PAX_FORMAT, "python-pax.tar"), (tarfile.GNU_FORMAT, "python-gnu.tar")):
    with tarfile.open(out, "w", format=fmt) as t:
        for n in names:
            info = t.gettarinfo(src + "/" + n, arcname=n)
            info.uid = info.gid = 0; info.uname = info.gname = ""; info.mtime = 1704067200
            if info.isfile():
                with open(src + "/" + n, "rb") as f:
                    t.addfile(info, f)
            else:
                t.addfile(info)
PY
ls -l *.tar
