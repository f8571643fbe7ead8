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
libs="libxml-2.0 zlib libzip gmime-3.0 libpq libcurl inih"
srcs=$(ls "$top"/src/*.c | grep -v -e '/dmarcd\.c$' -e '/dmarcq\.c$' -e '/daemon\.c$')
fail=0
for f in "$top"/tests/fuzz/fuzz_*.c; do
	[ -e "$f" ] || continue
	name=$(basename "$f" .c)
	mod=${name#fuzz_}
	bin=$out/bin/$name
	if ! clang -g -O1 -fsanitize=fuzzer,address,undefined \
	    -fno-sanitize-recover=undefined -D_GNU_SOURCE \
	    -I"$top/src" -I"$build" -I"$build/src" \
	    "$f" $srcs "$build/src/sql_migrations.c" \
	    $(pkg-config --cflags --libs $libs) -o "$bin" 2>"$out/$name.build.log"; then
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
