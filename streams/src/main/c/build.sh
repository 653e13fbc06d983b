#!/usr/bin/env bash
# Builds the JNI library that decodes JPEGs with the system's libjpeg-turbo (conveyor_jpeg.c)
# into OUT_DIR, for the streams module's jar. Run by Maven (process-classes); needs gcc, the
# JDK's JNI headers and Debian's libjpeg62-turbo-dev. Elsewhere than Linux x86-64 it builds
# nothing, and JPEGs are decoded by FFmpeg.
set -euo pipefail
out="$1"
java_home="$2"
src="$(cd "$(dirname "$0")" && pwd)/conveyor_jpeg.c"
lib="$out/libconveyor-jpeg.so"
if [ "$(uname -s)/$(uname -m)" != "Linux/x86_64" ]; then
  echo "conveyor-jpeg: not built on $(uname -s)/$(uname -m); JPEGs will be decoded by FFmpeg"
  exit 0
fi
if ! command -v gcc >/dev/null; then
  echo "conveyor-jpeg: gcc is needed to build the JPEG decoder: apt-get install -y gcc" >&2
  exit 1
fi
if [ ! -f /usr/include/jpeglib.h ]; then
  echo "conveyor-jpeg: libjpeg-turbo's headers are needed to build the JPEG decoder: apt-get install -y libjpeg62-turbo-dev" >&2
  exit 1
fi
if [ ! -f "$java_home/include/jni.h" ]; then
  echo "conveyor-jpeg: no JNI headers under $java_home/include: build with a JDK" >&2
  exit 1
fi
if [ -f "$lib" ] && [ "$lib" -nt "$src" ] && [ "$lib" -nt "$0" ]; then
  exit 0
fi
mkdir -p "$out"
gcc -O2 -Wall -Wextra -Werror -fPIC -shared -I"$java_home/include" -I"$java_home/include/linux" \
    -o "$lib" "$src" -ljpeg
