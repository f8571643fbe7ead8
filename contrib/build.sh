#!/bin/sh
# build.sh [DIR [CONFIGURE-ARGS...]]: configure and build out of tree in
# DIR (default build/), so that several builds (plain, sanitizers) can
# live side by side.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:-build}; [ $# -gt 0 ] && shift
cd "$top"
[ -x configure ] && [ configure -nt configure.ac ] && [ Makefile.in -nt Makefile.am ] ||
	autoreconf -fi >&2
mkdir -p "$dir"
cd "$dir"
[ -f Makefile ] || "$top/configure" -q "$@" >&2
make -s -j"$(nproc)" >&2
