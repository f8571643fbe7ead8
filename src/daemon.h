/*
 * daemon.h: dmarcd without a command: every configured source drained on
 * its own schedule, for ever (or once).
 */
#ifndef DAEMON_H
#define DAEMON_H

struct config;

/*
 * Run the daemon over cf's sources (cf is re-read from its path on
 * SIGHUP). conninfo is the database (borrowed). With once, drain every
 * source one time and return. Returns an exit code of DESIGN.md: 0, 1
 * (a message was rejected, --once only), 3 (a source or the database
 * unreachable, --once only).
 */
int	daemon_run(struct config *cf, const char *conninfo, int once);

#endif /* DAEMON_H */
