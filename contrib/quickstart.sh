#!/bin/sh
# quickstart.sh: the main job, from a fresh Debian 12 machine: install the
# packages, build, provision a private PostgreSQL (no system service is
# touched), create the schema, import the sample reports bundled in
# tests/data/samples/ and print what they say. Run it again at will:
# duplicates are recognised and nothing is stored twice.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
. contrib/deps.sh
dmarcd_install_deps

echo "== building (build/)"
contrib/build.sh build

# The cluster lives under the checkout. As root, PostgreSQL runs as the
# postgres user, who may not be able to enter the checkout (under /root):
# then it lives in /var/tmp instead.
pgdir=$top/.dmarcd/pg
if [ "$(id -u)" -eq 0 ] && ! runuser -u postgres -- test -x "$top"; then
	pgdir=/var/tmp/dmarcd-quickstart-$(echo "$top" | cksum | cut -d' ' -f1)
fi
echo "== starting a private PostgreSQL in $pgdir"
DMARCD_DB=$(PG_DURABLE=1 tests/pg.sh start "$pgdir")
export DMARCD_DB

echo "== dmarcd migrate"
build/src/dmarcd migrate

echo "== dmarcd import tests/data/samples/*/ (some samples are broken on purpose)"
build/src/dmarcd import $(ls -d tests/data/samples/*/ | grep -v LICENSES) || true

echo
echo "== dmarcq summary"
build/src/dmarcq summary
echo
echo "== dmarcq failures --limit 10 (sources failing DMARC, worst first)"
build/src/dmarcq failures --limit 10
echo
echo "== dmarcq reports --limit 10"
build/src/dmarcq reports --limit 10

# The samples are years old: the page and the period questions cover the
# 400 days (the most a page shows) up to the newest of them, not the
# default last 30 days.
range=$(psql "$DMARCD_DB" -Atc "SELECT
    (max(begin_time) AT TIME ZONE 'UTC')::date - 399,
    (max(begin_time) AT TIME ZONE 'UTC')::date + 1 FROM dmarc.report") ||
	range=
busiest=$(psql "$DMARCD_DB" -Atc "SELECT domain FROM dmarc.report
    GROUP BY domain ORDER BY sum(messages) DESC, domain LIMIT 1") ||
	busiest=
page=
if [ -n "${range%|*}" ]; then
	since=${range%|*}; until=${range#*|}
	echo
	echo "== dmarcq new-sources --since $since --until $until --limit 5"
	build/src/dmarcq new-sources --since "$since" --until "$until" --limit 5
	if [ -n "$busiest" ]; then
		echo
		echo "== dmarcq readiness --domain $busiest --since $since --until $until --limit 5"
		build/src/dmarcq readiness --domain "$busiest" --since "$since" \
		    --until "$until" --limit 5
	fi
	echo
	echo "== dmarcq html -o build/dmarc-report.html --since $since --until $until"
	build/src/dmarcq html -o build/dmarc-report.html \
	    --since "$since" --until "$until" &&
		page="
The charts of those 400 days, one self-contained page (no network):
  $top/build/dmarc-report.html"
fi
cat <<MSG
$page

The database keeps running. To query it yourself:
  export DMARCD_DB='$DMARCD_DB'
  build/src/dmarcq sources          who sends mail as my domains?
  build/src/dmarcq failures         which of them fail, and why?
  build/src/dmarcq new-sources      what started sending this week?
  build/src/dmarcq readiness --domain D
                                    may D move to p=quarantine or reject?
  build/src/dmarcq report ID        one report, whole
  build/src/dmarcq --help
Stop it with:  tests/pg.sh stop $pgdir
MSG
