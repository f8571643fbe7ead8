#!/bin/sh
# run.sh [SECONDS]: build every tests/fuzz/fuzz_*.c with clang's libFuzzer
# (+ASan+UBSan) and run each for SECONDS (default 20) on its seed corpus.
# Prints one line per target; exits 1 if any target crashed or failed
# to build. A crash input lands in tests/fuzz/out/NAME.crashes/.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
secs=${1:-20}
out=$top/tests/fuzz/out
mkdir -p "$out/bin"
build=${DM_FUZZ_BUILD:-$top/build}
# the generated migrations table comes from the normal build
[ -f "$build/src/sql_migrations.c" ] || { echo "fuzz: build first ($build)" >&2; exit 1; }
libs="libxml-2.0 zlib libcrypto libzip gmime-3.0 libpq libcurl inih"
srcs=$(ls "$top"/src/*.c | grep -v -e '/dmarcd\.c$' -e '/dmarcq\.c$' -e '/daemon\.c$')
cflags="-g -O1 -fno-sanitize-recover=undefined -D_GNU_SOURCE -I$top/src"
cflags="$cflags -I$build -I$build/src $(pkg-config --cflags $libs)"
# The modules are compiled once, on every core, and linked into each
# target (compiling them per target took most of the step's time).
obj=$out/obj
rm -rf "$obj"
mkdir -p "$obj"
export DM_FUZZ_CFLAGS="$cflags" DM_FUZZ_OBJ="$obj"
# shellcheck disable=SC2016
if ! printf '%s\n' $srcs "$build/src/sql_migrations.c" |
    xargs -P "$(nproc)" -n 1 sh -c 'clang -c $DM_FUZZ_CFLAGS \
	-fsanitize=fuzzer-no-link,address,undefined \
	-o "$DM_FUZZ_OBJ/$(basename "$1" .c).o" "$1"' sh \
    2>"$out/modules.build.log"; then
	echo "fuzz: modules: build FAILED (see $out/modules.build.log)"
	exit 1
fi
fail=0
for f in "$top"/tests/fuzz/fuzz_*.c; do
	[ -e "$f" ] || continue
	name=$(basename "$f" .c)
	mod=${name#fuzz_}
	bin=$out/bin/$name
	if ! clang $cflags -fsanitize=fuzzer,address,undefined "$f" \
	    "$obj"/*.o $(pkg-config --libs $libs) -o "$bin" \
	    2>"$out/$name.build.log"; then
		echo "fuzz: $name: build FAILED (see $out/$name.build.log)"
		fail=1
		continue
	fi
	corpus=$out/$name.corpus
	crashes=$out/$name.crashes
	mkdir -p "$corpus" "$crashes"
	seeds=$top/tests/fuzz/corpus/$mod
	[ -d "$seeds" ] || seeds=
	if "$bin" -max_total_time="$secs" -rss_limit_mb=1024 -timeout=10 \
	    -artifact_prefix="$crashes/" "$corpus" $seeds \
	    >"$out/$name.log" 2>&1; then
		runs=$(grep -o 'Done [0-9]* runs' "$out/$name.log" | tail -1)
		echo "fuzz: $name: ok (${runs:-?} in ${secs}s)"
	else
		echo "fuzz: $name: FAILED (see $out/$name.log, inputs in $crashes/)"
		tail -20 "$out/$name.log"
		fail=1
	fi
done
exit $fail
