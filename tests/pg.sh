#!/bin/sh
# pg.sh: a throwaway PostgreSQL 15 cluster for tests and the quick start.
#
#   tests/pg.sh start DIR [PORT]	initdb DIR (if new), start it on
#					127.0.0.1:PORT, create database
#					dmarc, print a conninfo on stdout
#   tests/pg.sh stop DIR		stop it (fast mode)
#
# Everything but the conninfo goes to stderr. Starting a cluster that
# already runs just prints its conninfo. PORT defaults to the first free
# one from 55432 up. As root, initdb/pg_ctl/postgres run as the postgres
# user (they refuse root), so DIR is made postgres-owned and its parents
# must be traversable (keep it under /tmp). fsync, full_page_writes and
# synchronous_commit are off: test data only, which a crash of the
# machine may lose or corrupt. Started once with PG_DURABLE=1 (the quick
# start's store), DIR keeps PostgreSQL's defaults from its next start on
# (DIR/durable says so): what was committed survives a crash.
set -eu

PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}

die() { echo "pg.sh: $*" >&2; exit 1; }
usage() { die "usage: pg.sh start DIR [PORT] | pg.sh stop DIR"; }

[ $# -ge 2 ] || usage
cmd=$1
dir=$2
[ -x "$PGBIN/pg_ctl" ] || die "$PGBIN/pg_ctl: not found (apt-get install postgresql-15)"

case $dir in
/*) ;;
*) dir=$(pwd)/$dir ;;
esac
data=$dir/data

if [ "$(id -u)" -eq 0 ]; then
	pguser=postgres
	as() { runuser -u postgres -- "$@"; }
else
	pguser=$(id -un)
	as() { "$@"; }
fi

port_free() {
	[ -z "$(ss -Htln "sport = :$1" 2>/dev/null)" ]
}

conninfo() {
	echo "host=127.0.0.1 port=$1 dbname=dmarc user=$pguser"
}

running() {
	[ -f "$data/postmaster.pid" ] && as "$PGBIN/pg_ctl" -D "$data" status >/dev/null 2>&1
}

case $cmd in
start)
	[ $# -le 3 ] || usage
	if running; then
		port=$(cat "$dir/port")
		conninfo "$port"
		exit 0
	fi
	mkdir -p "$dir"
	if [ "$(id -u)" -eq 0 ]; then
		chown postgres: "$dir"
		chmod 755 "$dir"
		as test -x "$dir" ||
		    die "user postgres cannot enter $dir: its parents must be traversable (use a directory under /tmp)"
	fi
	if [ ! -f "$data/PG_VERSION" ]; then
		as "$PGBIN/initdb" -D "$data" -U "$pguser" -A trust -E UTF8 \
		    --locale=C.UTF-8 >&2 || die "initdb $data failed"
	fi
	if [ "${PG_DURABLE:-0}" = 1 ] && [ ! -f "$dir/durable" ]; then
		echo "fsync, full_page_writes, synchronous_commit: on" |
		    as tee "$dir/durable" >/dev/null
	fi
	if [ -f "$dir/durable" ]; then
		unsafe=
	else
		unsafe="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
	fi
	if [ $# -eq 3 ]; then
		port=$3
		port_free "$port" || die "port $port is in use"
	else
		port=55432
		while ! port_free "$port"; do
			port=$((port + 1))
			[ "$port" -lt 56432 ] || die "no free port from 55432"
		done
	fi
	echo "$port" | as tee "$dir/port" >/dev/null
	as "$PGBIN/pg_ctl" -D "$data" -l "$dir/log" -w -t 30 \
	    -o "-c listen_addresses=127.0.0.1 -p $port -k $dir $unsafe -c max_connections=50" \
	    start >&2 || { tail -20 "$dir/log" >&2; die "start failed (log: $dir/log)"; }
	i=0
	while ! as "$PGBIN/pg_isready" -q -h 127.0.0.1 -p "$port"; do
		i=$((i + 1))
		[ $i -lt 100 ] || die "not ready after 10 s (log: $dir/log)"
		sleep 0.1
	done
	if ! as "$PGBIN/psql" -h 127.0.0.1 -p "$port" -U "$pguser" -d postgres -XAtq \
	    -c "SELECT 1 FROM pg_database WHERE datname = 'dmarc'" | grep -q 1; then
		as "$PGBIN/createdb" -h 127.0.0.1 -p "$port" -U "$pguser" dmarc >&2 ||
		    die "createdb dmarc failed"
	fi
	conninfo "$port"
	;;
stop)
	[ $# -eq 2 ] || usage
	if running; then
		as "$PGBIN/pg_ctl" -D "$data" -m fast -w stop >&2
	else
		echo "pg.sh: $dir: not running" >&2
	fi
	;;
*)
	usage
	;;
esac
