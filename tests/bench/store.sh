# store.sh: sourced by run.sh. File to committed rows with a private
# PostgreSQL, against the floor PostgreSQL itself sets (psql \copy of the
# same rows), all in one run.
pgdir=${DMARCD_BENCH_PGDIR:-/tmp/dmarcd-bench-pg}	# one per concurrent bencher
conn=$("$top/tests/pg.sh" start "$pgdir")
trap '"$top/tests/pg.sh" stop "$pgdir" >/dev/null 2>&1' EXIT
psql_base() { psql "$conn" -XAtq -v ON_ERROR_STOP=1 "$@"; }
psql_base -c "DROP DATABASE IF EXISTS bench WITH (FORCE)" -c "CREATE DATABASE bench"
db="$conn dbname=bench"
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

echo "store: PostgreSQL 15 on 127.0.0.1, fsync=off (tests/pg.sh)"
measure "import 200k records (1 report)" 200000 "$dmarcd" -q import "$big"
measure "import 1000 reports x 20 records" 20000 "$dmarcd" -q import "$small"
[ "$(psql_db -c 'SELECT count(*) FROM dmarc.record')" = 220000 ] ||
	{ echo "bench: wrong record count"; exit 1; }
[ "$(psql_db -c 'SELECT count(*) FROM dmarc.record_dkim')" = 440000 ] ||
	{ echo "bench: wrong dkim result count"; exit 1; }

# The floor: the same rows, exported and loaded again with psql \copy
# (dmarc.record holds the auth results and reasons in its arrays; the
# record_dkim, record_spf and record_override views have no rows of
# their own).
# Two floors for the big report: psql's default (text) and binary, the
# format dmarcd sends.
floor() {	# floor LABEL RECORDS WHERE [COPY-OPTIONS]
	label=$1; records=$2; where=$3; opts=${4:-}
	psql_db -c "\\copy (SELECT * FROM dmarc.record WHERE $where) TO '$out/record.copy' $opts"
	psql_db -c "DELETE FROM dmarc.record WHERE $where" -c "VACUUM dmarc.record"
	cat >"$out/floor.sql" <<SQL
BEGIN;
\\copy dmarc.record FROM '$out/record.copy' $opts
COMMIT;
SQL
	measure "$label" "$records" psql "$db" -XAtq -v ON_ERROR_STOP=1 -f "$out/floor.sql"
}
bigid=$(psql_db -c "SELECT id FROM dmarc.report WHERE records = 200000")
floor "psql \\copy of the 200k rows" 200000 "rep_id = $bigid"
floor "psql \\copy binary, 200k rows" 200000 "rep_id = $bigid" "(FORMAT binary)"
floor "psql \\copy of the 1000x20 rows" 20000 "rep_id <> $bigid"
