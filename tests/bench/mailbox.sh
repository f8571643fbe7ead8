#!/bin/sh
# mailbox.sh [N]: the daemon drains one IMAP mailbox of N report mails
# (default 10,000; 20 records each) from a private Dovecot into a private
# PostgreSQL with "dmarcd --once": wall time, messages/s and peak RSS,
# then checks that every report was stored once and every mail filed.
# By hand, never in CI. Needs a build in build/ (contrib/build.sh).
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
n=${1:-10000}
out=$top/tests/bench/out
mkdir -p "$out"
dmarcd=$top/build/src/dmarcd
[ -x "$dmarcd" ] || { echo "bench: build first: contrib/build.sh" >&2; exit 1; }
cc -O2 -o "$out/genreport" "$top/tests/bench/genreport.c"
dv=/tmp/dmarcd-bench-dovecot
pg=/tmp/dmarcd-bench-pg
eval "$("$top/tests/dovecot.sh" start "$dv" 29430)"
conn=$("$top/tests/pg.sh" start "$pg")
trap '"$top/tests/dovecot.sh" stop "$dv" >/dev/null 2>&1; "$top/tests/pg.sh" stop "$pg" >/dev/null 2>&1' EXIT
psql "$conn" -XAtq -c "DROP DATABASE IF EXISTS mbench WITH (FORCE)" -c "CREATE DATABASE mbench"
db="$conn dbname=mbench"

# deliver straight into the Maildir: doveadm save would take minutes
box=$DOVECOT_DIR/mail/$DOVECOT_USER/Maildir/.bench
# and no mail filed by an earlier run: the check at the end counts them
rm -rf "$box" "$DOVECOT_DIR/mail/$DOVECOT_USER/Maildir/.bench_done"
mkdir -p "$box/tmp" "$box/new" "$box/cur"
i=1
while [ $i -le "$n" ]; do
	{
		printf 'From: dmarc@reporter.example\r\nTo: dmarc@example.com\r\n'
		printf 'Subject: Report Domain: example.com Submitter: reporter.example Report-ID: <%d>\r\n' $i
		printf 'Message-ID: <bench-%d@reporter.example>\r\nMIME-Version: 1.0\r\n' $i
		printf 'Content-Type: text/xml\r\n\r\n'
		"$out/genreport" 20 $((100000 + i))
	} >"$box/tmp/m$i"
	mv "$box/tmp/m$i" "$box/new/m$i"
	i=$((i + 1))
done
chown -R nobody:nogroup "$DOVECOT_DIR/mail"

conf=$out/mailbox.conf
cat >"$conf" <<CONF
[database]
conninfo = $db
[imap "bench"]
url = imaps://127.0.0.1:$((DOVECOT_PORT + 1))/bench
user = $DOVECOT_USER
password_file = $DOVECOT_PASSWORD_FILE
ca_file = $DOVECOT_CA
processed_folder = bench_done
CONF
chmod 600 "$conf"
/usr/bin/time -f '%e %M' -o "$out/time" "$dmarcd" -c "$conf" --once 2>"$out/mailbox.log"
read -r secs kb <"$out/time"
stored=$(psql "$db" -XAtq -c "SELECT count(*) FROM dmarc.report")
filed=$(doveadm -c "$DOVECOT_DIR/dovecot.conf" mailbox status -u "$DOVECOT_USER" messages bench_done | sed 's/.*messages=//')
left=$(doveadm -c "$DOVECOT_DIR/dovecot.conf" mailbox status -u "$DOVECOT_USER" messages bench | sed 's/.*messages=//')
printf 'drain %s mails: %.1f s, %.0f mails/s, peak RSS %.1f MiB; %s reports stored, %s filed, %s left; %s progress lines\n' \
    "$n" "$secs" "$(awk -v n="$n" -v s="$secs" 'BEGIN { print (s > 0 ? n / s : 0) }')" \
    "$(awk -v k="$kb" 'BEGIN { print k / 1024 }')" "$stored" "$filed" "$left" \
    "$(grep -c 'progress=' "$out/mailbox.log")"
[ "$stored" = "$n" ] && [ "$filed" = "$n" ] && [ "$left" = 0 ]
