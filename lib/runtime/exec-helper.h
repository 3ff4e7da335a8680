/* The exec helper's contract (see exec-helper-main.c and exec.c).
 *
 * Every process the runtime starts in a container (its init, exec'd
 * processes, hooks run in its namespaces) executes its program through a
 * small static helper run from a sealed memfd, never straight from the
 * process that embeds libberth. A `#!/proc/self/exe` script run in the
 * container then finds the sealed helper behind /proc/self/exe, not the
 * embedding binary, which a process in the container could otherwise
 * reopen for writing once it stopped running (the CVE-2019-5736 class).
 *
 * The helper is started as
 *     argv[0] BT_EXEC_HELPER_ARGV0
 *     argv[1] the setup socket's fd number, or "-" (then errors go to fd 2)
 *     argv[2] the program's path, or "#N": execveat of fd N
 *     argv[3] ... the program's own argv
 * with the program's environment. On failure it sends a bt_sync_msg of
 * type BT_SYNC_ERROR (err = errno) on the socket and exits 127. */
#ifndef BERTH_EXEC_HELPER_H
#define BERTH_EXEC_HELPER_H

#define BT_EXEC_HELPER_ARGV0 "berth-exec"
#define BT_EXEC_HELPER_SLOTS 3 /* argv entries before the program's own */

/* Messages between the container's process and the runtime (spawn.c). */
enum { BT_SYNC_NS_READY = 1, BT_SYNC_GO, BT_SYNC_HOOKS, BT_SYNC_READY, BT_SYNC_ERROR };

struct bt_sync_msg {
	int type;
	int err;
	char text[240];
};

#endif
