# query.sh: sourced by run.sh. dmarcq on a big store: 10,008,000 records
# in 18,000 reports (10 policy domains x 90 days x 20 reporters x 556
# records), written by SQL straight into the schema (importing them would
# take minutes and measure the importer, not the queries). The cluster
# and its data are kept in $pgdir between runs; BENCH_REBUILD=1 rebuilds.
#
# What it shows, for one domain over its last 30 days:
#   - dmarcq summary, sources and failures, wall time of the command;
#   - EXPLAIN ANALYZE of the very query dmarcq ran (auto_explain, from the
#     server's log), and of the same summary computed from the records
#     (what summary did before sql/004_report_totals.sql).
pgdir=/tmp/dmarcd-bench-query-pg
conn=$("$top/tests/pg.sh" start "$pgdir")
trap '"$top/tests/pg.sh" stop "$pgdir" >/dev/null 2>&1' EXIT
db="$conn dbname=bench10m"
psql_base() { psql "$conn" -XAtq -v ON_ERROR_STOP=1 "$@"; }
psql_db() { psql "$db" -XAtq -v ON_ERROR_STOP=1 "$@"; }
dmarcq=$top/build/src/dmarcq

want=10008000
have=$(psql_db -c "SELECT records FROM bench_done" 2>/dev/null || echo 0)
if [ "${BENCH_REBUILD:-0}" = 1 ] || [ "$have" != "$want" ]; then
	echo "query: building the store ($want records; a few minutes)"
	psql_base -c "DROP DATABASE IF EXISTS bench10m WITH (FORCE)" \
	    -c "CREATE DATABASE bench10m"
	DMARCD_DB="$db" "$dmarcd" -q migrate
	start=$(date +%s)
	# 90 days ending yesterday (UTC), so "the last 30 days" is full
	psql_db <<'SQL'
CREATE TABLE bench_span AS SELECT
	date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'
	    - interval '90 days' AS t0;
SELECT dmarc.ensure_record_partition(t0 + m * interval '1 month')
	FROM bench_span, generate_series(-1, 4) m;
INSERT INTO dmarc.report (org_name, email, report_id, begin_time,
    end_time, domain, p, pct)
SELECT	'reporter' || r || '.example', 'dmarc@reporter' || r || '.example',
	format('b-%s-%s-%s', d, day, r),
	t0 + day * interval '1 day',
	t0 + day * interval '1 day' + interval '86399 s',
	'domain' || d || '.example', 'none', 100
FROM	bench_span, generate_series(0, 9) d, generate_series(0, 89) day,
	generate_series(1, 20) r;
SQL
	d=0
	while [ $d -le 9 ]; do
		# a domain's 1,800 reports x 556 records; 20,000 addresses per
		# domain; DKIM fails for 20% of the records, SPF for 25%, both
		# (DMARC fails) for 5%; 2% quarantined, 1% rejected. A report's
		# records side by side, as dmarcd's COPY writes them: without
		# the ORDER BY, each report's records lay on as many pages as
		# it has records, which no import does.
		psql_db <<SQL
INSERT INTO dmarc.record (rep_id, rec_no, begin_time, domain, source_ip,
    count, disposition, dkim, spf, header_from, envelope_from,
    dkim_n, dkim1_domain, dkim1_selector, dkim1_result, spf_n,
    spf1_domain, spf1_scope, spf1_result)
SELECT	p.id, n, p.begin_time, p.domain,
	'198.18.0.0'::inet + ((p.id * 7919 + n * 104729) % 20000),
	1 + (p.id + n * 31) % 50,
	(CASE WHEN (p.id + n) % 100 < 2 THEN 'quarantine'
	    WHEN (p.id + n) % 100 < 3 THEN 'reject'
	    ELSE 'none' END)::dmarc.disposition,
	(CASE WHEN n % 10 < 8 THEN 'pass' ELSE 'fail' END)::dmarc.dmarc_result,
	(CASE WHEN (n / 10 + p.id) % 4 <> 0 THEN 'pass' ELSE 'fail'
	    END)::dmarc.dmarc_result,
	p.domain, 'bounce.' || p.domain,
	1, p.domain, 's' || n % 3,
	(CASE WHEN n % 10 < 8 THEN 'pass' ELSE 'fail'
	    END)::dmarc.dkim_result,
	1, 'bounce.' || p.domain, 'mfrom',
	(CASE WHEN (n / 10 + p.id) % 4 <> 0 THEN 'pass' ELSE 'fail'
	    END)::dmarc.spf_result
FROM	dmarc.report p, generate_series(1, 556) n
WHERE	p.domain = 'domain$d.example'
ORDER BY p.id, n;
SQL
		printf '  domain%s.example: %s records\n' "$d" \
		    "$(psql_db -c "SELECT count(*) FROM dmarc.record WHERE domain = 'domain$d.example'")"
		d=$((d + 1))
	done
	psql_db -c "SELECT dmarc.report_totals_refresh(NULL)" -c "VACUUM ANALYZE"
	psql_db -c "CREATE TABLE bench_done AS SELECT count(*) AS records FROM dmarc.record"
	echo "query: built in $(( $(date +%s) - start )) s"
else
	# a store kept from an older schema: bring it up to this dmarcq's
	DMARCD_DB="$db" "$dmarcd" -q migrate
fi
echo "query: $(psql_db -c "SELECT count(*) FROM dmarc.record") records in" \
    "$(psql_db -c "SELECT count(*) FROM dmarc.report") reports," \
    "$(psql_db -c "SELECT pg_size_pretty(pg_database_size(current_database()))")"

since=$(psql_db -c "SELECT to_char(t0 + interval '60 days', 'YYYY-MM-DD') FROM bench_span")
dom=domain3.example
log=$pgdir/log
# auto_explain logs the plan of each statement dmarcq runs, with actual
# times: the query itself, not a copy of its text
export PGOPTIONS="-c session_preload_libraries=auto_explain -c auto_explain.log_min_duration=0 -c auto_explain.log_analyze=on -c auto_explain.log_buffers=on"
for cmd in summary sources failures; do
	mark=$(wc -l <"$log")
	res=$out/dmarcq-$cmd.csv
	/usr/bin/time -f '%e' -o "$out/time" "$dmarcq" --db "$db" --format csv \
	    "$cmd" --domain "$dom" --since "$since" >"$res" ||
		{ echo "bench: dmarcq $cmd failed"; exit 1; }
	printf 'dmarcq %-9s --domain %s --since %s: %s s wall, %s rows, server %s\n' \
	    "$cmd" "$dom" "$since" "$(cat "$out/time")" "$(($(wc -l <"$res") - 1))" \
	    "$(tail -n +$((mark + 1)) "$log" | sed -n 's/.*duration: \([0-9.]* ms\) *plan.*/\1/p' | tail -1)"
	if [ "$cmd" = summary ]; then
		echo "  plan of dmarcq summary (auto_explain):"
		tail -n +$((mark + 1)) "$log" | sed -n '/Query Text: SELECT domain, count/,/^[^	]/p' | sed '$d' |
		    sed 's/^.*LOG: *//; s/^/    /'
		sed 's/^/  /' "$res"
	fi
done
unset PGOPTIONS

# The same answer from the records, as summary computed it before the
# per-report totals (through daily_domain over dmarc.record), the
# records found as dmarcq finds them now (sql/008_record_rep_index.sql).
echo "  the same summary from the records (before 004_report_totals.sql):"
psql_db <<SQL | sed 's/^/    /'
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF)
SELECT domain, count(DISTINCT rep_id), sum(count)::bigint,
	coalesce(sum(count) FILTER (WHERE dkim = 'pass' OR spf = 'pass'), 0)
FROM dmarc.record WHERE rep_id = ANY (ARRAY(SELECT id FROM dmarc.report
    WHERE domain = '$dom' AND begin_time >= '$since'))
    AND begin_time >= '$since'
GROUP BY domain;
SQL
psql_db <<SQL | sed 's/^/    /'
SELECT domain, count(DISTINCT rep_id), sum(count)::bigint,
	coalesce(sum(count) FILTER (WHERE dkim = 'pass' OR spf = 'pass'), 0)
FROM dmarc.record WHERE rep_id = ANY (ARRAY(SELECT id FROM dmarc.report
    WHERE domain = '$dom' AND begin_time >= '$since'))
    AND begin_time >= '$since'
GROUP BY domain;
SQL
