# store.sh: sourced by run.sh. File to committed rows with a private
# PostgreSQL, against the floor PostgreSQL itself sets (psql \copy of the
# same rows), all in one run.
# DMARCD_BENCH_DURABLE=1: a cluster with fsync, full_page_writes and
# synchronous_commit on, as the quick start's store (tests/pg.sh
# PG_DURABLE), in a directory of its own; otherwise they are off.
if [ "${DMARCD_BENCH_DURABLE:-0}" = 1 ]; then
	pgdir=${DMARCD_BENCH_PGDIR:-/tmp/dmarcd-bench-pg-durable}
	durable="fsync, full_page_writes and synchronous_commit on"
else
	pgdir=${DMARCD_BENCH_PGDIR:-/tmp/dmarcd-bench-pg}	# one per concurrent bencher
	durable="fsync=off (tests/pg.sh)"
fi
conn=$(PG_DURABLE=${DMARCD_BENCH_DURABLE:-0} "$top/tests/pg.sh" start "$pgdir")
trap '"$top/tests/pg.sh" stop "$pgdir" >/dev/null 2>&1' EXIT
psql_base() { psql "$conn" -XAtq -v ON_ERROR_STOP=1 "$@"; }
psql_base -c "DROP DATABASE IF EXISTS bench WITH (FORCE)" -c "CREATE DATABASE bench"
# No autovacuum waking up in the middle of a measurement: each step
# vacuums, analyzes and checkpoints before it starts (settle).
psql_base -c "ALTER SYSTEM SET autovacuum = off" -c "SELECT pg_reload_conf()" >/dev/null
# TCP on 127.0.0.1, or with DMARCD_BENCH_VIA=socket the cluster's Unix
# socket, as the example configuration reaches a local PostgreSQL
# (host=/run/postgresql). Later keys win in a conninfo.
case ${DMARCD_BENCH_VIA:-tcp} in
tcp)	db="$conn dbname=bench"; via="127.0.0.1 (TCP)" ;;
socket)	db="$conn host=$pgdir dbname=bench"; via="its Unix socket" ;;
*)	echo "bench: DMARCD_BENCH_VIA is tcp or socket" >&2; exit 2 ;;
esac
export DMARCD_DB="$db"
"$dmarcd" -q migrate
psql_db() { psql "$db" -XAtq -v ON_ERROR_STOP=1 "$@"; }

big=$out/report-200k.xml.gz
[ -f "$big" ] || "$out/genreport" 200000 7 | gzip -1 >"$big"
small=$out/small-1000
if [ ! -d "$small" ]; then
	mkdir -p "$small"
	i=1
	while [ $i -le 1000 ]; do
		"$out/genreport" 20 $((1000 + i)) | gzip -1 >"$small/r$i.xml.gz"
		i=$((i + 1))
	done
fi

echo "store: PostgreSQL 15 over $via, $durable"

# secs CMD...: run CMD, its wall time in $secs and peak RSS (KiB) in $kb
secs() {
	/usr/bin/time -f '%e %M' -o "$out/time" "$@" >"$out/last.out" 2>"$out/last.err" ||
		{ echo "bench: $* failed:"; tail -5 "$out/last.err"; exit 1; }
	read -r secs kb <"$out/time"
}
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# The 200k report, several rounds: this machine's speed varies by half
# from one run to the next, so each round times the import and then
# PostgreSQL's own load of the very same rows (psql \copy, binary, the
# format dmarcd sends) back to back, and the ratio of the two is what
# compares. Each round starts from an empty slot: the report and its
# ledger row deleted, the table vacuumed.
rounds=${DMARCD_BENCH_ROUNDS:-5}
settle() { psql_db -c "VACUUM ANALYZE" -c "CHECKPOINT"; }
fresh() {	# forget the big report, so that it imports again
	psql_db -c "DELETE FROM dmarc.report WHERE records = 200000" \
	    -c "DELETE FROM dmarc.ingest WHERE input = '$big'"
	settle
}
# The floor loads the columns dmarcd's COPY names: the lean list of
# src/store.c (record_copy_lean), which holds every record here (checked
# after the first import); a column left out costs the server nothing.
cols="rep_id, begin_time, domain, rec_no, source_ip, count, disposition,
    dkim, spf, envelope_to, envelope_from, header_from, dkim_n,
    dkim1_domain, dkim1_selector, dkim1_result, dkim2_domain,
    dkim2_selector, dkim2_result, spf_n, spf1_domain, spf1_scope,
    spf1_result"
lean_only() {	# no record has a value outside $cols
	[ "$(psql_db -c "SELECT count(*) FROM dmarc.record WHERE num_nonnulls(
	    disposition_raw, dkim_raw, spf_raw, reason_type, reason_type_raw,
	    reason_comment, dkim_more_domain, dkim_more_selector,
	    dkim_more_result, dkim_result_raw, dkim_human_result,
	    spf_more_domain, spf_more_scope, spf_scope_raw, spf_more_result,
	    spf_result_raw, spf_human_result) > 0")" = 0 ] ||
		{ echo "bench: records outside the lean columns"; exit 1; }
}
cat >"$out/floor.sql" <<SQL
BEGIN;
\\copy dmarc.record ($(echo $cols)) FROM '$out/record.bin' (FORMAT binary)
COMMIT;
SQL
printf '%s\n' "import 200k records (1 report) vs psql \\copy binary of its rows, $rounds rounds:"
printf '  %-6s %9s %9s %7s %12s\n' round import floor ratio records/s
: >"$out/imports"; : >"$out/floors"; : >"$out/ratios"; maxkb=0
r=1
while [ "$r" -le "$rounds" ]; do
	fresh
	secs "$dmarcd" -q import "$big"
	imp=$secs; [ "$kb" -gt "$maxkb" ] && maxkb=$kb
	grep -q '^stored .* records=200000 ' "$out/last.out" ||
		{ echo "bench: unexpected output:"; cat "$out/last.out"; exit 1; }
	bigid=$(psql_db -c "SELECT id FROM dmarc.report WHERE records = 200000")
	[ "$r" = 1 ] && lean_only
	psql_db -c "\\copy (SELECT $(echo $cols) FROM dmarc.record WHERE rep_id = $bigid) TO '$out/record.bin' (FORMAT binary)"
	psql_db -c "DELETE FROM dmarc.record WHERE rep_id = $bigid"
	settle
	secs psql "$db" -XAtq -v ON_ERROR_STOP=1 -f "$out/floor.sql"
	flo=$secs
	echo "$imp" >>"$out/imports"; echo "$flo" >>"$out/floors"
	awk -v i="$imp" -v f="$flo" 'BEGIN { print i / f }' >>"$out/ratios"
	printf '  %-6s %8.2fs %8.2fs %7.2f %12.0f\n' "$r" "$imp" "$flo" \
	    "$(awk -v i="$imp" -v f="$flo" 'BEGIN { print i / f }')" \
	    "$(awk -v i="$imp" 'BEGIN { print 200000 / i }')"
	r=$((r + 1))
done
rm -f "$out/record.bin"
mi=$(median <"$out/imports"); mf=$(median <"$out/floors"); mr=$(median <"$out/ratios")
printf '  median %7.2fs %8.2fs %7.2f %12.0f   (import peak RSS %.1f MiB)\n' \
    "$mi" "$mf" "$mr" "$(awk -v i="$mi" 'BEGIN { print 200000 / i }')" \
    "$(awk -v k="$maxkb" 'BEGIN { print k / 1024 }')"
fresh
"$dmarcd" -q import "$big" >/dev/null

# The 1,000 small reports, in rounds as well. Their floor is psql doing
# what dmarcd must: one transaction per report, BEGIN, a binary \copy of
# its 20 rows, COMMIT (the rows as the first round stored them).
# dmarcd imports them with its default workers (one per CPU here), and
# again with -j 1, one process and connection like psql's.
printf '%s\n' "import 1000 reports x 20 records vs psql 1000 x (BEGIN; \\copy 20 rows; COMMIT), $rounds rounds:"
printf '  %-6s %9s %9s %9s %7s %7s %12s\n' round import "-j 1" floor ratio "-j 1" records/s
: >"$out/imports"; : >"$out/floors"; : >"$out/ratios"; maxkb=0
: >"$out/imports1"; : >"$out/ratios1"
rm -rf "$out/small-copy"; mkdir "$out/small-copy"
r=1
while [ "$r" -le "$rounds" ]; do
	psql_db -c "DELETE FROM dmarc.report WHERE records = 20" \
	    -c "DELETE FROM dmarc.ingest WHERE input LIKE '$small/%'"
	[ -f "$out/small-ids" ] && [ "$r" -gt 1 ] &&
		psql_db -c "DELETE FROM dmarc.record WHERE rep_id IN ($(paste -sd, "$out/small-ids"))"
	settle
	secs "$dmarcd" -q import -j 1 "$small"
	imp1=$secs; [ "$kb" -gt "$maxkb" ] && maxkb=$kb
	[ "$(grep -c '^stored ' "$out/last.out")" = 1000 ] ||
		{ echo "bench: not 1000 reports stored:"; tail -3 "$out/last.out"; exit 1; }
	psql_db -c "DELETE FROM dmarc.report WHERE records = 20" \
	    -c "DELETE FROM dmarc.ingest WHERE input LIKE '$small/%'"
	settle
	secs "$dmarcd" -q import "$small"
	imp=$secs; [ "$kb" -gt "$maxkb" ] && maxkb=$kb
	[ "$(grep -c '^stored ' "$out/last.out")" = 1000 ] ||
		{ echo "bench: not 1000 reports stored:"; tail -3 "$out/last.out"; exit 1; }
	if [ "$r" = 1 ]; then
		[ "$(psql_db -c 'SELECT count(*) FROM dmarc.record')" = 220000 ] ||
			{ echo "bench: wrong record count"; exit 1; }
		[ "$(psql_db -c 'SELECT count(*) FROM dmarc.record_dkim')" = 440000 ] ||
			{ echo "bench: wrong dkim result count"; exit 1; }
		psql_db -c "SELECT id FROM dmarc.report WHERE records = 20 ORDER BY id" >"$out/small-ids"
		while read -r id; do
			printf '%s\n' "\\copy (SELECT $(echo $cols) FROM dmarc.record WHERE rep_id = $id) TO '$out/small-copy/$id' (FORMAT binary)"
		done <"$out/small-ids" | psql_db -f -
		while read -r id; do
			printf 'BEGIN;\n\\copy dmarc.record (%s) FROM %s (FORMAT binary)\nCOMMIT;\n' "$(echo $cols)" "'$out/small-copy/$id'"
		done <"$out/small-ids" >"$out/small-floor.sql"
	fi
	psql_db -c "DELETE FROM dmarc.record WHERE rep_id IN (SELECT id FROM dmarc.report WHERE records = 20)"
	settle
	secs psql "$db" -XAtq -v ON_ERROR_STOP=1 -f "$out/small-floor.sql"
	flo=$secs
	echo "$imp" >>"$out/imports"; echo "$flo" >>"$out/floors"
	echo "$imp1" >>"$out/imports1"
	awk -v i="$imp" -v f="$flo" 'BEGIN { print i / f }' >>"$out/ratios"
	awk -v i="$imp1" -v f="$flo" 'BEGIN { print i / f }' >>"$out/ratios1"
	printf '  %-6s %8.2fs %8.2fs %8.2fs %7.2f %7.2f %12.0f\n' "$r" "$imp" \
	    "$imp1" "$flo" "$(awk -v i="$imp" -v f="$flo" 'BEGIN { print i / f }')" \
	    "$(awk -v i="$imp1" -v f="$flo" 'BEGIN { print i / f }')" \
	    "$(awk -v i="$imp" 'BEGIN { print 20000 / i }')"
	r=$((r + 1))
done
rm -rf "$out/small-copy"
mi=$(median <"$out/imports"); mf=$(median <"$out/floors"); mr=$(median <"$out/ratios")
mi1=$(median <"$out/imports1"); mr1=$(median <"$out/ratios1")
printf '  median %7.2fs %8.2fs %8.2fs %7.2f %7.2f %12.0f   (import peak RSS %.1f MiB)\n' \
    "$mi" "$mi1" "$mf" "$mr" "$mr1" "$(awk -v i="$mi" 'BEGIN { print 20000 / i }')" \
    "$(awk -v k="$maxkb" 'BEGIN { print k / 1024 }')"

# For reference: the text format, and all 1,000 reports' rows in one
# \copy (what one transaction for all of them would cost).
floor() {	# floor LABEL RECORDS WHERE [COPY-OPTIONS]
	label=$1; records=$2; where=$3; opts=${4:-}
	psql_db -c "\\copy (SELECT $(echo $cols) FROM dmarc.record WHERE $where) TO '$out/record.copy' $opts"
	psql_db -c "DELETE FROM dmarc.record WHERE $where"
	settle
	cat >"$out/floor.sql" <<SQL
BEGIN;
\\copy dmarc.record ($(echo $cols)) FROM '$out/record.copy' $opts
COMMIT;
SQL
	measure "$label" "$records" psql "$db" -XAtq -v ON_ERROR_STOP=1 -f "$out/floor.sql"
}
bigid=$(psql_db -c "SELECT id FROM dmarc.report WHERE records = 200000")
floor "psql \\copy (text), 200k rows" 200000 "rep_id = $bigid"
floor "psql \\copy, the 1000x20 rows" 20000 "rep_id <> $bigid"
