#!/bin/sh
# deps.sh: the Debian 12 packages dmarcd builds, tests and runs with.
# Sourced by quickstart.sh and test-all.sh; installs what is missing
# (apt-get update first), as root or through sudo.

# chromium: only for the tests (check_html opens dmarcq html's page)
DMARCD_PACKAGES="build-essential autoconf automake libtool pkg-config
	libxml2-dev zlib1g-dev libssl-dev libzip-dev libgmime-3.0-dev libpq-dev
	libcurl4-openssl-dev libinih-dev libsystemd-dev check
	postgresql postgresql-client dovecot-imapd dovecot-pop3d openssl
	clang libclang-rt-14-dev iproute2 procps
	chromium"

dmarcd_install_deps() {
	missing=
	for p in $DMARCD_PACKAGES; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
		    grep -q 'install ok installed' || missing="$missing $p"
	done
	[ -z "$missing" ] && return 0
	echo "deps: installing:$missing" >&2
	if [ "$(id -u)" -eq 0 ]; then
		sudo=
	elif command -v sudo >/dev/null 2>&1; then
		sudo=sudo
	else
		echo "deps: need root (or sudo) to install:$missing" >&2
		return 1
	fi
	# the packages' own services must not start: we run private ones
	$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
	$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    --no-install-recommends $missing >&2
}
