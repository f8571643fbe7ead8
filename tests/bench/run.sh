#!/bin/sh
# run.sh [dry|store|query|all]: the benchmarks, run by hand (never in CI):
#   dry    a 1,000,000-record report (~820 MB of XML, gzipped) through
#          "dmarcd import --dry-run": records/s and peak RSS.
#   store  file to committed rows in a private PostgreSQL: a 200,000-record
#          gzipped report in DMARCD_BENCH_ROUNDS rounds (default 5), each
#          timed against psql \copy (binary) of the same rows, the floor
#          PostgreSQL itself sets; then 1,000 small reports of 20 records
#          and their floor. DMARCD_BENCH_PGDIR: its cluster (default
#          /tmp/dmarcd-bench-pg); DMARCD_BENCH_VIA=tcp (default) or socket;
#          DMARCD_BENCH_DURABLE=1: fsync and the rest on, as the quick
#          start's store (otherwise off, as the tests' clusters).
#   query  dmarcq on 10 million records: summary, sources and failures of
#          one domain over 30 days, with the server's EXPLAIN ANALYZE.
# Every number comes from one run on this machine; compare ratios, not
# absolute values, across machines. Needs a build in build/ (contrib/build.sh).
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
what=${1:-all}
out=$top/tests/bench/out
mkdir -p "$out"
dmarcd=$top/build/src/dmarcd
[ -x "$dmarcd" ] || { echo "bench: build first: contrib/build.sh" >&2; exit 1; }
cc -O2 -o "$out/genreport" "$top/tests/bench/genreport.c"

# measure LABEL RECORDS CMD...: wall time, records/s, peak RSS
measure() {
	label=$1; records=$2; shift 2
	/usr/bin/time -f '%e %M' -o "$out/time" "$@" >"$out/$label.out" 2>"$out/$label.err" ||
		{ echo "bench: $label failed:"; tail -5 "$out/$label.err"; exit 1; }
	read -r secs kb <"$out/time"
	rate=$(awk -v r="$records" -v s="$secs" 'BEGIN { printf "%.0f", (s > 0 ? r / s : 0) }')
	printf '%-34s %9s records %8.2f s %10s records/s  peak RSS %6.1f MiB\n' \
	    "$label" "$records" "$secs" "$rate" "$(awk -v k="$kb" 'BEGIN { print k / 1024 }')"
}

if [ "$what" = dry ] || [ "$what" = all ]; then
	big=$out/report-1m.xml.gz
	[ -f "$big" ] || "$out/genreport" 1000000 | gzip -1 >"$big"
	printf '[limits]\nmax_xml = 2G\nmax_records = 2000000\n' >"$out/big.conf"
	echo "dry run: $(du -h "$big" | cut -f1) gzip, $("$out/genreport" 1000 | wc -c) bytes per 1000 records"
	measure "dry-run 1M records" 1000000 "$dmarcd" -c "$out/big.conf" import --dry-run "$big"
	grep -q '^stored .* records=1000000 ' "$out/dry-run 1M records.out" ||
		{ echo "bench: unexpected output:"; cat "$out/dry-run 1M records.out"; exit 1; }
fi

if [ "$what" = store ] || [ "$what" = all ]; then
	. "$top/tests/bench/store.sh"
fi

if [ "$what" = query ] || [ "$what" = all ]; then
	# a subshell: its own EXIT trap stops its own cluster
	( . "$top/tests/bench/query.sh" )
fi
