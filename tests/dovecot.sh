#!/bin/sh
# dovecot.sh: a throwaway Dovecot (IMAP + POP3) for tests, on 127.0.0.1.
#
#   tests/dovecot.sh start DIR [BASEPORT]   write a config under DIR, make a
#                                           private CA and server certificate,
#                                           start dovecot, print settings
#   tests/dovecot.sh stop DIR               stop it
#   tests/dovecot.sh seed DIR MAILBOX FILE...  deliver messages (unseen)
#   tests/dovecot.sh count DIR MAILBOX      messages in MAILBOX
#   tests/dovecot.sh clear DIR MAILBOX      expunge every message in MAILBOX
#
# Ports (BASEPORT default: first free block from 21430): +0 IMAP (STARTTLS
# offered), +1 IMAPS, +2 POP3 (STLS offered), +3 POP3S, +4 IMAP without
# TLS at all (a second Dovecot with ssl = no that would even take a
# plaintext login: to prove that dmarcd requires STARTTLS and never
# sends the password; its log is DIR/notls/dovecot.log). Also on 127.0.0.2 (+0 and
# +2) where plaintext login is refused. "start" prints shell assignments:
#   DOVECOT_CA=... DOVECOT_PORT=... DOVECOT_USER=dmarc DOVECOT_PASSWORD_FILE=...
# The mail user is "nobody"; mail lives in DIR/mail/dmarc/Maildir.
# A second user, DOVECOT_POP_USER=dmarcpop (same password, its own Maildir),
# keeps the POP3 tests out of the IMAP tests' INBOX; seed, count and clear
# act on $DOVECOT_MAIL_USER when set (default: dmarc).
set -eu

die() { echo "dovecot.sh: $*" >&2; exit 1; }
[ $# -ge 2 ] || die "usage: dovecot.sh start|stop|seed|count|clear DIR ..."
cmd=$1; dir=$2; shift 2
case $dir in /*) ;; *) dir=$(pwd)/$dir ;; esac
conf=$dir/dovecot.conf
user=dmarc
pop_user=dmarcpop
password=dmarc-test-secret

port_free() { [ -z "$(ss -Htln "sport = :$1" 2>/dev/null)" ]; }

case $cmd in
start)
	command -v dovecot >/dev/null || die "dovecot not found (apt-get install dovecot-imapd dovecot-pop3d)"
	if [ -f "$dir/run/master.pid" ] && kill -0 "$(cat "$dir/run/master.pid")" 2>/dev/null; then
		cat "$dir/env"; exit 0
	fi
	base=${1:-21430}
	while ! (port_free "$base" && port_free $((base + 1)) && port_free $((base + 2)) &&
	    port_free $((base + 3)) && port_free $((base + 4))); do
		base=$((base + 10))
		[ "$base" -lt 22430 ] || die "no free ports"
	done
	mkdir -p "$dir/run" "$dir/state" "$dir/mail" "$dir/tls"
	chmod 755 "$dir" "$dir/mail"
	chown nobody:nogroup "$dir/mail"
	# a private CA and a server certificate for 127.0.0.1 only
	if [ ! -f "$dir/tls/server.pem" ]; then
		openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=dmarcd test CA" \
		    -keyout "$dir/tls/ca.key" -out "$dir/tls/ca.pem" 2>/dev/null
		openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" \
		    -keyout "$dir/tls/server.key" -out "$dir/tls/server.csr" 2>/dev/null
		printf 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n' >"$dir/tls/ext"
		openssl x509 -req -in "$dir/tls/server.csr" -CA "$dir/tls/ca.pem" \
		    -CAkey "$dir/tls/ca.key" -CAcreateserial -days 30 \
		    -extfile "$dir/tls/ext" -out "$dir/tls/server.pem" 2>/dev/null
		# a second CA that signed nothing: "untrusted certificate" tests
		openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=other CA" \
		    -keyout "$dir/tls/other.key" -out "$dir/tls/other-ca.pem" 2>/dev/null
	fi
	printf '%s:{PLAIN}%s\n' "$user" "$password" "$pop_user" "$password" >"$dir/passwd"
	chgrp dovecot "$dir/passwd"; chmod 640 "$dir/passwd"
	printf '%s\n' "$password" >"$dir/password"; chmod 600 "$dir/password"
	cat >"$conf" <<CONF
base_dir = $dir/run
state_dir = $dir/state
log_path = $dir/dovecot.log
info_log_path = $dir/dovecot.log
protocols = imap pop3
listen = 127.0.0.1, 127.0.0.2
ssl = yes
ssl_cert = <$dir/tls/server.pem
ssl_key = <$dir/tls/server.key
disable_plaintext_auth = yes
auth_mechanisms = plain login
first_valid_uid = 1
passdb {
  driver = passwd-file
  args = scheme=PLAIN $dir/passwd
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=$dir/mail/%u
}
mail_location = maildir:~/Maildir
namespace inbox {
  inbox = yes
  separator = /
}
pop3_uidl_format = %08Xv%08Xu
service imap-login {
  inet_listener imap {
    port = $base
  }
  inet_listener imaps {
    port = $((base + 1))
    ssl = yes
  }
}
service pop3-login {
  inet_listener pop3 {
    port = $((base + 2))
  }
  inet_listener pop3s {
    port = $((base + 3))
    ssl = yes
  }
}
service anvil {
  chroot =
}
service stats {
  unix_listener stats-writer {
    mode = 0666
  }
}
protocol imap {
  mail_max_userip_connections = 50
}
CONF
	dovecot -c "$conf" || { tail -20 "$dir/dovecot.log" >&2; die "dovecot failed to start"; }
	# the second one: no TLS at all, plaintext logins welcome
	mkdir -p "$dir/notls/run" "$dir/notls/state"
	sed -e "s|^base_dir = .*|base_dir = $dir/notls/run|" \
	    -e "s|^state_dir = .*|state_dir = $dir/notls/state|" \
	    -e "s|^log_path = .*|log_path = $dir/notls/dovecot.log|" \
	    -e "s|^info_log_path = .*|info_log_path = $dir/notls/dovecot.log|" \
	    -e "s|^protocols = .*|protocols = imap|" \
	    -e "s|^listen = .*|listen = 127.0.0.1|" \
	    -e "s|^ssl = yes|ssl = no|" -e "/^ssl_cert/d" -e "/^ssl_key/d" \
	    -e "s|^disable_plaintext_auth = yes|disable_plaintext_auth = no|" \
	    -e "s|    port = $base\$|    port = $((base + 4))|" \
	    -e "/inet_listener imaps {/,/}/d" \
	    -e "/^service pop3-login {/,/^}/d" \
	    "$conf" >"$dir/notls/dovecot.conf"
	dovecot -c "$dir/notls/dovecot.conf" ||
	    { tail -20 "$dir/notls/dovecot.log" >&2; die "the no-TLS dovecot failed to start"; }
	i=0
	until ! port_free "$base" && ! port_free $((base + 4)); do
		i=$((i + 1)); [ $i -lt 50 ] || die "dovecot not listening"
		sleep 0.1
	done
	cat >"$dir/env" <<ENV
DOVECOT_DIR=$dir
DOVECOT_PORT=$base
DOVECOT_CA=$dir/tls/ca.pem
DOVECOT_OTHER_CA=$dir/tls/other-ca.pem
DOVECOT_USER=$user
DOVECOT_PASSWORD_FILE=$dir/password
DOVECOT_POP_USER=$pop_user
DOVECOT_NOTLS_PORT=$((base + 4))
ENV
	cat "$dir/env"
	;;
stop)
	[ -f "$conf" ] || exit 0
	doveadm -c "$conf" stop 2>/dev/null || true
	[ -f "$dir/notls/dovecot.conf" ] &&
	    doveadm -c "$dir/notls/dovecot.conf" stop 2>/dev/null || true
	;;
seed)
	user=${DOVECOT_MAIL_USER:-$user}
	[ $# -ge 2 ] || die "usage: dovecot.sh seed DIR MAILBOX FILE..."
	mbox=$1; shift
	doveadm -c "$conf" mailbox create -u "$user" "$mbox" 2>/dev/null || true
	for f in "$@"; do
		doveadm -c "$conf" save -u "$user" -m "$mbox" <"$f" || die "save $f failed"
	done
	;;
count)
	user=${DOVECOT_MAIL_USER:-$user}
	[ $# -eq 1 ] || die "usage: dovecot.sh count DIR MAILBOX"
	doveadm -c "$conf" mailbox status -u "$user" messages "$1" 2>/dev/null |
	    sed -n "s/.*messages=\([0-9]*\).*/\1/p" | grep . || echo 0
	;;
clear)
	[ $# -eq 1 ] || die "usage: dovecot.sh clear DIR MAILBOX"
	doveadm -c "$conf" expunge -u "${DOVECOT_MAIL_USER:-$user}" mailbox "$1" all
	;;
*)
	die "unknown command $cmd"
	;;
esac
