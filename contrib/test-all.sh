#!/bin/sh
# test-all.sh: the whole test suite, from a fresh Debian 12 machine.
# Installs the packages it needs, builds, starts a private PostgreSQL on
# 127.0.0.1 (stopped again at the end), runs every Check test, runs them
# again under AddressSanitizer + UndefinedBehaviorSanitizer, runs each
# fuzz target briefly and "make distcheck", and ends with one line
# "N passed, N failed". Exit status 0 only when everything passed.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
. contrib/deps.sh
dmarcd_install_deps || exit 1

fuzz_secs=${DM_FUZZ_SECONDS:-5}
rundir=$(mktemp -d /tmp/dmarcd-test.XXXXXX)
chmod 755 "$rundir"
failed_steps=

cleanup() {
	tests/pg.sh stop "$rundir/pg" >/dev/null 2>&1 || true
	tests/dovecot.sh stop "$rundir/dovecot" >/dev/null 2>&1 || true
	rm -rf "$rundir"
}
trap cleanup EXIT INT TERM

step() {	# step NAME CMD...: run, remember a failure
	name=$1; shift
	echo "== $name ($(date +%T))"
	if ! "$@"; then
		echo "== $name: FAILED"
		failed_steps="$failed_steps $name"
	fi
}

echo "== build ($(date +%T))"
contrib/build.sh build || { echo "0 passed, 1 failed"; exit 1; }
contrib/build.sh build-san --enable-sanitizers CFLAGS="-g -O1" ||
	{ echo "0 passed, 1 failed"; exit 1; }

echo "== postgresql"
DMARCD_TEST_DB=$(tests/pg.sh start "$rundir/pg") ||
	{ echo "postgresql did not start"; echo "0 passed, 1 failed"; exit 1; }
export DMARCD_TEST_DB
# check_daemon restarts it under a running daemon
export DMARCD_TEST_PGDIR="$rundir/pg"
echo "test database: $DMARCD_TEST_DB"

echo "== dovecot"
tests/dovecot.sh start "$rundir/dovecot" >"$rundir/dovecot.env" ||
	{ echo "dovecot did not start"; echo "0 passed, 1 failed"; exit 1; }
set -a; . "$rundir/dovecot.env"; set +a
echo "test dovecot: 127.0.0.1:$DOVECOT_PORT.. ($DOVECOT_DIR)"

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
[ -f tests/lsan.supp ] && export LSAN_OPTIONS="suppressions=$top/tests/lsan.supp"
# the test programs built on both cores (TESTS= runs none), then run
# one after the other: the daemon and fetch tests share one Dovecot
make -s -j"$(nproc)" -C build check TESTS= >/dev/null
make -s -j"$(nproc)" -C build-san check TESTS= >/dev/null
step check make -s -C build check
step check-sanitizers make -s -C build-san check
step fuzz tests/fuzz/run.sh "$fuzz_secs"
if [ "${DM_SKIP_DISTCHECK:-0}" != 1 ]; then
	echo "== distcheck ($(date +%T))"
	# The tarball is proven by building, installing and running the
	# tests that read files it must carry (samples, goldens, the
	# dashboard); the mailbox and store suites already ran twice above.
	dist_tests="tests/check_util tests/check_unpack tests/check_parse"
	dist_tests="$dist_tests tests/check_mime tests/check_ingest"
	dist_tests="$dist_tests tests/check_ruf tests/check_query"
	dist_tests="$dist_tests tests/check_grafana tests/check_html"
	if ! make -s -j"$(nproc)" -C build distcheck TESTS="$dist_tests" \
	    >"$rundir/distcheck.log" 2>&1; then
		tail -40 "$rundir/distcheck.log"
		echo "== distcheck: FAILED"
		failed_steps="$failed_steps distcheck"
	fi
fi

# Check's own result lines, then the sum over both builds.
passed=0; failed=0
for log in build/tests/check_*.log build-san/tests/check_*.log; do
	[ -f "$log" ] || continue
	line=$(grep -E '^[0-9]+%: Checks: [0-9]+' "$log" | tail -1)
	if [ -z "$line" ]; then
		echo "$log: no Check result (crashed or skipped)"
		grep -q '^SKIP' "${log%.log}.trs" 2>/dev/null && [ "${CI:-}" = true ] &&
			failed=$((failed + 1))
		grep -q 'FAIL\|ERROR' "${log%.log}.trs" 2>/dev/null &&
			failed=$((failed + 1))
		continue
	fi
	echo "$(basename "$(dirname "$(dirname "$log")")")/$(basename "$log" .log): $line"
	n=$(echo "$line" | sed -E 's/.*Checks: ([0-9]+).*/\1/')
	f=$(echo "$line" | sed -E 's/.*Failures: ([0-9]+).*/\1/')
	e=$(echo "$line" | sed -E 's/.*Errors: ([0-9]+).*/\1/')
	passed=$((passed + n - f - e))
	failed=$((failed + f + e))
done
for s in $failed_steps; do
	case $s in check|check-sanitizers) ;; *) failed=$((failed + 1));; esac
done
[ -n "$failed_steps" ] && echo "failed steps:$failed_steps"
echo "finished at $(date +%T)"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ -z "$failed_steps" ]
