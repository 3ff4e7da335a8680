/* The container's process: cloned into its new namespaces, then set up step
 * by step in lock-step with the parent over a socketpair.
 *
 *   child                                  parent
 *   joins namespaces by path, unshares  -> NS_READY
 *                                          uid/gid maps, oom_score_adj
 *                                       <- GO
 *   mounts, devices                     -> HOOKS (only when there are hooks)
 *                                          createRuntime, createContainer
 *                                       <- GO
 *   pivot_root, masked/readonly paths, sysctl, hostname, terminal, checks
 *   of cwd and args[0], user, capabilities
 *                                       -> READY (or ERROR with what and errno)
 *   create: waits on exec.fifo until start
 *   closes every fd not meant for the container, chdir(cwd) and checks it
 *   lies below the root, seccomp, execveat of the exec helper, which
 *   executes the program (exec-helper.h)
 *
 * The child runs only system calls on data the parent prepared (no malloc,
 * no locks, no stdio), so the library stays safe in a multithreaded host.
 * It is made non-dumpable first thing, so processes in the container cannot
 * open /proc/<pid>/exe of the runtime before the exec replaces it, and it
 * executes the program through the exec helper, so no exec in the container
 * leads back to the binary that embeds libberth (the CVE-2019-5736 class);
 * every host fd is closed before the chdir into the container
 * (CVE-2024-21626). */
#define _GNU_SOURCE
#include "runtime-internal.h"
#include "exec-helper.h"
#include "../cgroup/cgroup-internal.h"

#include <berth/cgroup.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <linux/keyctl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

/* What the parent prepares for the child besides the spawn: the exec
 * helper and the views of the cgroup mount. */
typedef struct {
	int helper_fd;
	int via;          /* BT_EXEC_VIA_* */
	char **hargv;     /* process.args with the helper's slots in front */
	bt_rt_cgmount cgm;
	char exec_root[32]; /* exec into a container in our mount namespace:
			       "/proc/<init>/root", entered with chroot */
} prepared;

/* ---- the child ------------------------------------------------------------- */

static void child_send(int fd, int type, int err, const char *what)
{
	struct bt_sync_msg m;
	size_t i = 0;

	memset(&m, 0, sizeof(m));
	m.type = type;
	m.err = err;
	for (; what && what[i] && i < sizeof(m.text) - 1; i++)
		m.text[i] = what[i];
	while (send(fd, &m, sizeof(m), MSG_NOSIGNAL) < 0 && errno == EINTR)
		;
}

static int child_wait_go(int fd)
{
	struct bt_sync_msg m;
	ssize_t n;

	do
		n = recv(fd, &m, sizeof(m), 0);
	while (n < 0 && errno == EINTR);
	return n == (ssize_t)sizeof(m) && m.type == BT_SYNC_GO ? 0 : -EPIPE;
}

/* The value of NAME= in a NULL-terminated environment, or NULL. */
static const char *env_get(char *const *env, const char *name)
{
	size_t len = strlen(name);

	for (; env && *env; env++)
		if (!strncmp(*env, name, len) && (*env)[len] == '=')
			return *env + len + 1;
	return NULL;
}

/* args[0] looked up in PATH as the container sees it, into buf. */
static int find_program(const bt_rt_process *p, char *buf, size_t size)
{
	const char *path = env_get(p->env, "PATH"), *s, *e;
	size_t alen = strlen(p->args[0]);
	struct stat st;

	if (strchr(p->args[0], '/')) {
		if (alen >= size)
			return -ENAMETOOLONG;
		memcpy(buf, p->args[0], alen + 1);
		if (stat(buf, &st) < 0)
			return -errno;
		return S_ISREG(st.st_mode) && (st.st_mode & 0111) ? 0 : -EACCES;
	}
	if (!path)
		path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	for (s = path; *s; s = *e ? e + 1 : e) {
		size_t dlen;

		e = strchr(s, ':');
		if (!e)
			e = s + strlen(s);
		dlen = (size_t)(e - s);
		if (!dlen || dlen + alen + 2 > size)
			continue;
		memcpy(buf, s, dlen);
		buf[dlen] = '/';
		memcpy(buf + dlen + 1, p->args[0], alen + 1);
		if (stat(buf, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111))
			return 0;
	}
	return -ENOENT;
}

/* A pty for the process: the slave becomes its stdio and controlling
 * terminal, the master goes to the console socket. */
static int child_terminal(int console, const char **what)
{
	char data[] = "/dev/ptmx";
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = { data, sizeof(data) };
	struct msghdr mh = { 0 };
	struct cmsghdr *cm;
	int master, slave, unlock = 0;

	*what = "opening /dev/ptmx in the container for process.terminal";
	if ((master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0)
		return -errno;
	if (ioctl(master, TIOCSPTLCK, &unlock) < 0 ||
	    (slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY)) < 0) {
		int e = errno;
		close(master);
		return -e;
	}
	*what = "making the pty the process's terminal";
	if (ioctl(slave, TIOCSCTTY, 0) < 0 || dup2(slave, 0) < 0 || dup2(slave, 1) < 0 ||
	    dup2(slave, 2) < 0) {
		int e = errno;
		close(master);
		close(slave);
		return -e;
	}
	if (slave > 2)
		close(slave);
	memset(&u, 0, sizeof(u));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = u.buf;
	mh.msg_controllen = sizeof(u.buf);
	cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &master, sizeof(int));
	*what = "sending the pty master over the console socket";
	if (sendmsg(console, &mh, MSG_NOSIGNAL) < 0) {
		int e = errno;
		close(master);
		return -e;
	}
	close(master);
	return 0;
}

#ifdef BERTH_TEST_HOOKS
bool bt_rt_test_no_close_range;
#endif

/* Closes lo..hi. Where close_range is missing (before Linux 5.9) or
 * refused, each open fd in the range is found in /proc/self/fd with
 * getdents64 (no malloc) and closed; if even that fails, -errno, and the
 * child gives up: an fd of the host is never left open by mistake. */
static int close_fds(int lo, unsigned int hi)
{
	union {
		char buf[4096];
		struct dirent64 align;
	} u;
	bool again = true;

#ifdef BERTH_TEST_HOOKS
	if (!bt_rt_test_no_close_range)
#endif
		if (syscall(SYS_close_range, lo, hi, 0) == 0)
			return 0;
	while (again) {
		int dfd = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		long n;

		if (dfd < 0)
			return -errno;
		again = false;
		while ((n = syscall(SYS_getdents64, dfd, u.buf, sizeof(u.buf))) > 0)
			for (long off = 0; off < n;) {
				struct dirent64 *d = (struct dirent64 *)(u.buf + off);
				long fd = 0;

				off += d->d_reclen;
				for (const char *c = d->d_name; *c >= '0' && *c <= '9'; c++)
					fd = fd * 10 + (*c - '0');
				if (d->d_name[0] >= '0' && d->d_name[0] <= '9' && fd != dfd && fd >= lo &&
				    (unsigned long)fd <= hi && close((int)fd) == 0)
					again = true; /* the listing changed under us: once more */
			}
		close(dfd);
		if (n < 0)
			return -errno;
	}
	return 0;
}

/* Closes every fd from lo up except those in keep (ascending; -1 skipped). */
static int close_except(int lo, const int *keep, size_t n)
{
	int rc;

	for (size_t i = 0; i < n; i++) {
		if (keep[i] < lo)
			continue;
		if (keep[i] > lo && (rc = close_fds(lo, (unsigned int)keep[i] - 1)) < 0)
			return rc;
		lo = keep[i] + 1;
	}
	return close_fds(lo, ~0U);
}

/* keep sorted, for close_except */
static void sort3(int *k)
{
	for (int i = 0; i < 2; i++)
		for (int j = 0; j < 2 - i; j++)
			if (k[j] > k[j + 1]) {
				int t = k[j];
				k[j] = k[j + 1];
				k[j + 1] = t;
			}
}

static int child_join(const bt_rt_spawn *sp, const int *nsfd, const int *nstype, size_t nns,
		      const char **what)
{
	const bt_rt_config *cfg = sp->cfg;

	*what = "joining a namespace";
	for (size_t i = 0; i < nns; i++)
		if (nstype[i] != CLONE_NEWPID && setns(nsfd[i], nstype[i]) < 0)
			return -errno;
	if (cfg && cfg->unshare_flags) {
		*what = "creating the container's namespaces";
		if (unshare(cfg->unshare_flags) < 0)
			return -errno;
	}
	return 0;
}

/* The descriptors the child works with. When the caller maps fds onto the
 * container's 0..n, its own are first moved above them. */
typedef struct {
	int sync, fifo, helper, console;
	int keep; /* the container's descriptors are 0..keep-1 */
} child_fds;

/* fd moved to a number >= base (close-on-exec), or -errno */
static int lift(int fd, int base)
{
	int n;

	if (fd < 0 || fd >= base)
		return fd;
	if ((n = fcntl(fd, F_DUPFD_CLOEXEC, base)) < 0)
		return -errno;
	close(fd);
	return n;
}

/* The caller's stdio and extra fds become 0-2 and 3..3+n-1: each is first
 * copied above every target, then duplicated onto its target, so a list
 * whose sources and targets overlap still lands right. */
static int child_map_fds(const bt_rt_spawn *sp, child_fds *cf, const char **what)
{
	int tmp[3 + BT_RT_MAX_FDS], base;

	cf->keep = 3 + (sp->nfds ? (int)sp->nfds : sp->preserve_fds);
	if (!sp->stdio && !sp->nfds)
		return 0;
	base = cf->keep;
	*what = "giving the container its descriptors";
	if ((cf->sync = lift(cf->sync, base)) < 0 || (cf->fifo = lift(cf->fifo, base)) < -1 ||
	    (cf->helper = lift(cf->helper, base)) < 0 || (cf->console = lift(cf->console, base)) < -1)
		return -EBADF;
	for (size_t i = 0; i < 3 + sp->nfds; i++) {
		int src = i < 3 ? (sp->stdio ? sp->stdio[i] : -2) : sp->fds[i - 3];

		tmp[i] = -1;
		if (src == -2)
			continue; /* the caller's own stdio, inherited */
		if (src < 0 && (src = open("/dev/null", O_RDWR | O_CLOEXEC)) < 0)
			return -errno;
		if ((tmp[i] = fcntl(src, F_DUPFD_CLOEXEC, base)) < 0)
			return -errno;
	}
	for (size_t i = 0; i < 3 + sp->nfds; i++)
		if (tmp[i] >= 0 && dup2(tmp[i], (int)i) < 0)
			return -errno;
	return 0;
}

/* Namespaces: joined and created, the parent's maps awaited, root in a new
 * user namespace, a keyring of its own, then the cgroup namespace. */
static int child_namespaces(const bt_rt_spawn *sp, int sync, const int *nsfd, const int *nstype,
			    size_t nns, const char **what)
{
	const bt_rt_config *cfg = sp->cfg;
	int rc;

	if ((rc = child_join(sp, nsfd, nstype, nns, what)) < 0)
		return rc;
	for (size_t i = 0; i < nns; i++)
		close(nsfd[i]);
	child_send(sync, BT_SYNC_NS_READY, 0, NULL);
	if (child_wait_go(sync) < 0)
		_exit(1); /* the parent gave up and reports why */
	if (cfg && cfg->new_userns) {
		*what = "becoming root in the user namespace";
		if (syscall(SYS_setresgid, 0, 0, 0) < 0 || syscall(SYS_setresuid, 0, 0, 0) < 0)
			return -errno;
	}
	/* nothing of the caller's keys is the container's (runc and crun do
	 * the same); kernels without keyrings have nothing to hide */
	if (sp->keyring) {
		*what = "joining a new session keyring";
		if (syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, sp->keyring) < 0 && errno != ENOSYS)
			return -errno;
	}
	if (cfg && cfg->new_cgroupns) {
		*what = "creating the cgroup namespace";
		if (unshare(CLONE_NEWCGROUP) < 0)
			return -errno;
	}
	return 0;
}

/* hostname and domainname */
static int child_names(const bt_rt_config *cfg, const char **what)
{
	*what = "setting the hostname";
	if (cfg->hostname && sethostname(cfg->hostname, strlen(cfg->hostname)) < 0)
		return -errno;
	*what = "setting the domainname";
	if (cfg->domainname && setdomainname(cfg->domainname, strlen(cfg->domainname)) < 0)
		return -errno;
	umask(022);
	return 0;
}

/* The file systems (with the hooks that run between mounts and pivot),
 * hostname and domainname: create only. */
static int child_fs(const bt_rt_spawn *sp, const prepared *pr, int sync, const char **what)
{
	const bt_rt_config *cfg = sp->cfg;
	int rc;

	umask(0);
	/* in the runtime's mount namespace nothing is mounted */
	if (!cfg->shared_mntns && (rc = bt_rt_child_mounts(cfg, &pr->cgm, what)) < 0)
		return rc;
	if (cfg->nhooks[BT_HOOK_PRESTART] || cfg->nhooks[BT_HOOK_CREATE_RUNTIME] ||
	    cfg->nhooks[BT_HOOK_CREATE_CONTAINER]) {
		child_send(sync, BT_SYNC_HOOKS, 0, NULL);
		if (child_wait_go(sync) < 0)
			_exit(1);
	}
	if (cfg->shared_mntns) {
		*what = "entering the root file system";
		if (chroot(cfg->rootfs) < 0 || chdir("/") < 0)
			return -errno;
	} else if ((rc = bt_rt_child_pivot(cfg, sp->no_pivot, what)) < 0 ||
		   (rc = bt_rt_child_finish_fs(cfg, what)) < 0) {
		return rc;
	}
	return child_names(cfg, what);
}

/* The last steps, after READY (and for create, after start): the kept fds
 * handed over, cwd entered again and checked, seccomp with
 * noNewPrivileges, signals reset, and the program run through the exec
 * helper. Returns only on failure. */
static int child_exec(const bt_rt_spawn *sp, const prepared *pr, const child_fds *cf,
		      const char *prog, const char **what)
{
	const bt_rt_process *p = sp->proc;
	char cwd[4096];
	int rc;

	/* the container's fds reach the process; ours close on exec */
	for (int fd = 3; fd < cf->keep; fd++) {
		int fl = fcntl(fd, F_GETFD);
		if (fd != cf->sync && fl >= 0)
			fcntl(fd, F_SETFD, fl & ~FD_CLOEXEC);
	}
	*what = "entering process.cwd";
	if (chdir(p->cwd) < 0)
		return -errno;
	*what = "checking process.cwd lies in the container";
	if (syscall(SYS_getcwd, cwd, sizeof(cwd)) < 0 || cwd[0] != '/')
		return -EPERM;
	if (p->nnp && (rc = bt_rt_child_seccomp(sp->seccomp, what)) < 0)
		return rc;
	/* the caller's blocked and ignored signals are not the container's */
	{
		sigset_t none;
		struct sigaction dfl = { .sa_handler = SIG_DFL }, cur;

		for (int sig = 1; sig < 65; sig++)
			if (sig != SIGKILL && sig != SIGSTOP && sigaction(sig, NULL, &cur) == 0 &&
			    cur.sa_handler == SIG_IGN)
				sigaction(sig, &dfl, NULL);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
	}
	/* through the helper: whatever the program is, even a
	 * `#!/proc/self/exe` script, /proc/<pid>/exe never shows the binary
	 * that embeds libberth (exec-helper.h) */
	*what = "executing the exec helper";
	return bt_rt_child_exec(cf->helper, pr->via, pr->hargv, prog, p->env, cf->sync);
}

/* exec into a container that shares our mount namespace: its root */
static int child_exec_root(const prepared *pr, const char **what)
{
	if (!pr->exec_root[0])
		return 0;
	*what = "entering the container's root";
	return chroot(pr->exec_root) < 0 || chdir("/") < 0 ? -errno : 0;
}

static int child_main(const bt_rt_spawn *sp, const prepared *pr, int sync, const int *nsfd,
		      const int *nstype, size_t nns)
{
	const bt_rt_process *p = sp->proc;
	const char *what = "setting up the container";
	child_fds cf = { sync, sp->fifo_fd, pr->helper_fd, sp->console_fd, 3 };
	char prog[4096];
	int rc, kept[3];
	bool ready = false;
	char c;

	/* first of all: nobody in the container may open /proc/<pid>/exe of
	 * this process, which is still the runtime's binary until execve
	 * (an exec'd process is in the container's pid namespace from birth) */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	/* a session of its own, as runc and crun give it: signals for the
	 * caller's process group (a shell's job control, `timeout` ending the
	 * runtime it ran) are not the container's */
	setsid();
	if (sp->lock_fd >= 0)
		close(sp->lock_fd);
	if ((rc = child_namespaces(sp, cf.sync, nsfd, nstype, nns, &what)) < 0 ||
	    (rc = child_map_fds(sp, &cf, &what)) < 0 ||
	    (rc = child_exec_root(pr, &what)) < 0 ||
	    (sp->cfg && (rc = child_fs(sp, pr, cf.sync, &what)) < 0))
		goto fail;
	if (p->terminal && cf.console >= 0 && (rc = child_terminal(cf.console, &what)) < 0)
		goto fail;
	/* nothing of the host is left open to chdir through (CVE-2024-21626):
	 * only the container's fds, the sync socket, exec.fifo and the exec
	 * helper, all three close-on-exec */
	kept[0] = cf.sync;
	kept[1] = cf.fifo;
	kept[2] = cf.helper;
	sort3(kept);
	what = "closing the descriptors the container must not have";
	if ((rc = close_except(cf.keep, kept, 3)) < 0)
		goto fail;
	what = "entering process.cwd";
	if (chdir(p->cwd) < 0) {
		rc = -errno;
		goto fail;
	}
	what = "finding process.args[0] in the container";
	if ((rc = find_program(p, prog, sizeof(prog))) < 0)
		goto fail;
	if ((rc = bt_rt_child_process(p, sp->seccomp, sp->cfg ? sp->cfg->new_userns : false, &what)) < 0)
		goto fail;
	/* the container outlives the process that made it: cleared before
	 * READY, since the parent may be gone right after reading it */
	prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0);
	child_send(cf.sync, BT_SYNC_READY, 0, NULL);
	ready = true;
	if (cf.fifo >= 0) {
		/* blocked until start writes to exec.fifo */
		while (read(cf.fifo, &c, 1) < 0 && errno == EINTR)
			;
		close(cf.fifo);
	}
	rc = child_exec(sp, pr, &cf, prog, &what);
fail:
	child_send(cf.sync, BT_SYNC_ERROR, -rc, what);
	if (ready && sp->fifo_fd >= 0) {
		/* after create the parent is gone; stderr is all there is */
		static const char msg[] = "berth-runtime: container process: ";
		ssize_t w = write(2, msg, sizeof(msg) - 1);
		w = write(2, what, strlen(what));
		w = write(2, "\n", 1);
		(void)w;
	}
	_exit(127);
}

/* ---- the parent ------------------------------------------------------------ */

static bool has_cgroup_mount(const bt_rt_config *cfg)
{
	for (size_t i = 0; cfg && i < cfg->nmounts; i++)
		if (cfg->mounts[i].kind & BT_MNT_CGROUP)
			return true;
	return false;
}

static bool has_type(const int *nstype, size_t n, int type)
{
	for (size_t i = 0; i < n; i++)
		if (nstype[i] == type)
			return true;
	return false;
}

/* Everything the child needs beyond the spawn, made before the clone. */
static int prepare(berth_runtime *rt, const bt_rt_spawn *sp, prepared *pr, berth_error **err)
{
	int rc;

	if ((rc = bt_rt_exec_helper(rt, &pr->helper_fd, err)) < 0 ||
	    (rc = bt_rt_exec_via(sp->seccomp, pr->helper_fd, &pr->via, err)) < 0)
		return rc;
	if (!(pr->hargv = bt_rt_exec_argv(sp->proc->args)))
		return bt_error_set(err, BERTH_ENOMEM, 0, "preparing the container process: out of memory");
	if (has_cgroup_mount(sp->cfg))
		return bt_rt_cgmount_prepare(sp->cgroup, &pr->cgm, err);
	return 0;
}

static int write_proc(int pid, const char *file, const char *text, berth_error **err)
{
	char path[64];
	size_t len = strlen(text);
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/%s", pid, file);
	if ((fd = open(path, O_WRONLY | O_CLOEXEC)) < 0)
		return bt_error_os(err, "opening %s", path);
	if (write(fd, text, len) != (ssize_t)len) {
		int rc = bt_error_os(err, "writing %s", path);
		close(fd);
		return rc;
	}
	close(fd);
	return 0;
}

/* How long the parent waits for any one step of the child's setup. */
#define SETUP_STEP_TIMEOUT_MS 60000

/* The child's next message: 0, or -ETIMEDOUT after the step's deadline, or
 * -EPIPE when the child closed the socket (exited, or exec succeeded). */
static int parent_recv(int sync, struct bt_sync_msg *m)
{
	struct pollfd pfd = { sync, POLLIN, 0 };
	ssize_t n;
	int r;

	do
		r = poll(&pfd, 1, SETUP_STEP_TIMEOUT_MS);
	while (r < 0 && errno == EINTR);
	if (r == 0)
		return -ETIMEDOUT;
	do
		n = recv(sync, m, sizeof(*m), MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)sizeof(*m))
		return -EPIPE;
	m->text[sizeof(m->text) - 1] = '\0';
	return 0;
}

/* Why the child is gone without a word: killed by the OOM killer of its
 * cgroup is worth saying (a memory limit too small to set it up). */
static int child_vanished(const bt_rt_spawn *sp, int pid, int why, const char *step,
			  berth_error **err)
{
	berth_cgroup_stats st = BERTH_CGROUP_STATS_INIT;
	int status = 0;

	if (why == -ETIMEDOUT)
		return bt_error_set(err, BERTH_EOS, ETIMEDOUT,
				    "the container process did not answer within %d s while %s",
				    SETUP_STEP_TIMEOUT_MS / 1000, step);
	/* the socket closed: the child has exited or is about to */
	kill(pid, SIGKILL);
	while (waitpid(pid, &status, __WALL) < 0 && errno == EINTR)
		;
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL && sp->cgroup &&
	    berth_cgroup_stats_get(sp->cgroup, &st, NULL) == 0 && st.oom_kills != BERTH_CGROUP_UNKNOWN &&
	    st.oom_kills > 0)
		return bt_error_set(err, BERTH_ERROR, 0,
				    "the container process was killed by the OOM killer while %s: its memory limit "
				    "is too small to set it up", step);
	return bt_error_set(err, BERTH_ERROR, 0, "the container process exited while %s", step);
}

static int parent_go(int sync, berth_error **err)
{
	struct bt_sync_msg m = { BT_SYNC_GO, 0, "" };

	if (send(sync, &m, sizeof(m), MSG_NOSIGNAL) != (ssize_t)sizeof(m))
		return bt_error_os(err, "releasing the container process");
	return 0;
}

/* The parent's side of the child's setup, step by step, until the child is
 * ready (create: blocked on exec.fifo) or has executed the program (exec:
 * the socket closes). Every wait has a deadline and its error names the
 * step the child was in. */
static int follow_setup(const bt_rt_spawn *sp, int pid, int sync,
			int (*on_hooks)(void *ud, int pid, berth_error **err), void *ud,
			berth_error **err)
{
	static const char executing[] = "executing process.args[0]";
	const bt_rt_config *cfg = sp->cfg;
	const char *step = "entering its namespaces";
	struct bt_sync_msg m;
	int r, rc;

	for (;;) {
		if ((r = parent_recv(sync, &m)) < 0)
			return r == -EPIPE && step == executing ? 0 : child_vanished(sp, pid, r, step, err);
		switch (m.type) {
		case BT_SYNC_NS_READY:
			if (cfg && cfg->new_userns &&
			    ((rc = write_proc(pid, "uid_map", cfg->uid_map, err)) < 0 ||
			     (rc = write_proc(pid, "gid_map", cfg->gid_map, err)) < 0))
				return rc;
			if (sp->proc->has_oom && (rc = write_proc(pid, "oom_score_adj", sp->proc->oom, err)) < 0)
				return bt_error_wrap(err, rc, "process.oomScoreAdj %s", sp->proc->oom);
			if ((rc = parent_go(sync, err)) < 0)
				return rc;
			step = cfg ? "setting up its mounts and devices" : "setting up its process";
			break;
		case BT_SYNC_HOOKS:
			if (on_hooks && (rc = on_hooks(ud, pid, err)) < 0)
				return rc;
			if ((rc = parent_go(sync, err)) < 0)
				return rc;
			step = "setting up its root, user and capabilities";
			break;
		case BT_SYNC_READY:
			/* create: it waits on exec.fifo now; exec: it executes */
			if (sp->fifo_fd >= 0)
				return 0;
			step = executing;
			break;
		case BT_SYNC_ERROR:
		default:
			return bt_error_set(err, m.err == EPERM || m.err == EACCES ? BERTH_EPERM
					    : m.err == ENOENT ? BERTH_ENOTFOUND : BERTH_EOS,
					    m.err, "%s: %s", m.text, strerror(m.err));
		}
	}
}

int bt_rt_open_ns_of(int pid, bool with_pid, int *nsfd, int *nstype, size_t *nns,
		     berth_error **err)
{
	static const struct {
		const char *name;
		int type;
	} kinds[] = { { "user", CLONE_NEWUSER }, { "mnt", CLONE_NEWNS },   { "pid", CLONE_NEWPID },
		      { "net", CLONE_NEWNET },   { "ipc", CLONE_NEWIPC },  { "uts", CLONE_NEWUTS },
		      { "cgroup", CLONE_NEWCGROUP }, { "time", 0x80 } };
	char a[64], b[64];

	*nns = 0;
	for (size_t i = 0; i < BT_ARRAY_SIZE(kinds); i++) {
		struct stat sa, sb;

		if (kinds[i].type == CLONE_NEWPID && !with_pid)
			continue;
		snprintf(a, sizeof(a), "/proc/%d/ns/%s", pid, kinds[i].name);
		snprintf(b, sizeof(b), "/proc/self/ns/%s", kinds[i].name);
		if (stat(a, &sa) < 0 || stat(b, &sb) < 0 || (sa.st_ino == sb.st_ino && sa.st_dev == sb.st_dev))
			continue;
		if ((nsfd[*nns] = open(a, O_RDONLY | O_CLOEXEC)) < 0) {
			int rc = bt_error_os(err, "opening %s", a);
			while (*nns)
				close(nsfd[--*nns]);
			return rc;
		}
		nstype[(*nns)++] = kinds[i].type;
	}
	return 0;
}

/* Opens the namespaces the child joins: the config's paths, or for exec
 * each namespace of the container that differs from ours. */
static int open_namespaces(const bt_rt_spawn *sp, int *nsfd, int *nstype, size_t *nns,
			   berth_error **err)
{
	*nns = 0;
	if (!sp->cfg)
		return bt_rt_open_ns_of(sp->init_pid, true, nsfd, nstype, nns, err);
	for (size_t i = 0; i < sp->cfg->nns; i++) {
		if (!sp->cfg->ns[i].path)
			continue;
		if ((nsfd[*nns] = open(sp->cfg->ns[i].path, O_RDONLY | O_CLOEXEC)) < 0)
			return bt_error_os(err, "linux.namespaces[%zu].path: opening %s", i, sp->cfg->ns[i].path);
		nstype[(*nns)++] = sp->cfg->ns[i].type;
	}
	return 0;
}

/* Makes this thread's children go into a new time namespace with the
 * given offsets; *self is our own, to return to after the clone. */
static int enter_new_timens(const char *offsets, int *self, berth_error **err)
{
	int fd;

	if ((*self = open("/proc/thread-self/ns/time", O_RDONLY | O_CLOEXEC)) < 0)
		return bt_error_os(err, "linux.namespaces: opening our time namespace");
	if (unshare(CLONE_NEWTIME) < 0)
		return bt_error_os(err, "linux.namespaces: creating a time namespace");
	if (!offsets)
		return 0;
	/* the kernel has timens_offsets only per process, where it means the
	 * thread group leader's namespace for children */
	if (syscall(SYS_gettid) != getpid()) {
		setns(*self, CLONE_NEWTIME);
		return bt_error_set(err, BERTH_EUNSUPPORTED, 0,
				    "linux.timeOffsets: can only be set when the runtime is called from the process's main thread");
	}
	if ((fd = open("/proc/self/timens_offsets", O_WRONLY | O_CLOEXEC)) < 0 ||
	    write(fd, offsets, strlen(offsets)) != (ssize_t)strlen(offsets)) {
		int rc = bt_error_os(err, "linux.timeOffsets: writing the offsets");
		if (fd >= 0)
			close(fd);
		setns(*self, CLONE_NEWTIME);
		return rc;
	}
	close(fd);
	return 0;
}

/* Clones the child (in its cgroup when there is one) with what applies to
 * children only entered for the clone and left right after: a new time
 * namespace, a joined pid namespace. The child never returns. */
static int clone_child(berth_runtime *rt, const bt_rt_spawn *sp, const prepared *pr, const int *sv,
		       const int *nsfd, const int *nstype, size_t nns, int *pid, int *pidfd,
		       berth_error **err)
{
	const bt_rt_config *cfg = sp->cfg;
	unsigned long flags = cfg ? (unsigned long)cfg->clone_flags_at_clone : 0;
	int selfpid = -1, selftime = -1, rc = 0;

	*pid = -1;
	/* a new time namespace also applies to children only, and its offsets
	 * must be set before anything lives in it */
	if (cfg && cfg->new_timens && (rc = enter_new_timens(cfg->time_offsets, &selftime, err)) < 0)
		goto out;
	for (size_t i = 0; i < nns; i++)
		if (nstype[i] == CLONE_NEWPID &&
		    ((selfpid = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC)) < 0 ||
		     setns(nsfd[i], CLONE_NEWPID) < 0)) {
			rc = bt_error_os(err, "entering the container's pid namespace");
			goto out;
		}
	/* born inside the cgroup: clone3(CLONE_INTO_CGROUP) for the v2 tree,
	 * the v1 hierarchies attached while the child waits (cgroup module) */
	if (sp->cgroup) {
		pid_t p;

		rc = bt_cgroup_fork(sp->cgroup, (uint64_t)flags, &p, pidfd, NULL, err);
		*pid = rc < 0 ? -1 : (int)p;
	} else {
		/* the pidfd comes back where the parent tid would (third argument) */
		*pid = (int)syscall(SYS_clone, flags | SIGCHLD | CLONE_PIDFD, NULL, pidfd, NULL, 0);
		if (*pid < 0)
			rc = bt_error_os(err, "cloning the container process");
	}
	if (*pid == 0) {
		close(sv[0]);
		/* setup dies with the thread that asked for it */
		prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
		child_main(sp, pr, sv[1], nsfd, nstype, nns);
		_exit(127);
	}
out:
	if (selftime >= 0) {
		if (setns(selftime, CLONE_NEWTIME) < 0)
			bt_log_error(rt->ctx, "runtime", "returning to our time namespace: %s", strerror(errno));
		close(selftime);
	}
	if (selfpid >= 0) {
		if (setns(selfpid, CLONE_NEWPID) < 0)
			bt_log_error(rt->ctx, "runtime", "returning to our pid namespace: %s", strerror(errno));
		close(selfpid);
	}
	return rc;
}

int bt_rt_spawn_run(berth_runtime *rt, const bt_rt_spawn *sp, int *pidp, int *pidfdp,
		    int (*on_hooks)(void *ud, int pid, berth_error **err),
		    void *ud, berth_error **err)
{
	int nsfd[16], nstype[16], sv[2] = { -1, -1 }, pid = -1, pidfd = -1, status, rc = 0;
	size_t nns = 0;
	prepared pr = { .helper_fd = -1 };

	*pidp = -1;
	*pidfdp = -1;
	if ((rc = prepare(rt, sp, &pr, err)) < 0 ||
	    (rc = open_namespaces(sp, nsfd, nstype, &nns, err)) < 0)
		goto out;
	if (!sp->cfg && !has_type(nstype, nns, CLONE_NEWNS))
		snprintf(pr.exec_root, sizeof(pr.exec_root), "/proc/%d/root", sp->init_pid);
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		rc = bt_error_os(err, "making the socket to the container process");
		goto out;
	}
	if ((rc = clone_child(rt, sp, &pr, sv, nsfd, nstype, nns, &pid, &pidfd, err)) < 0)
		goto out;
	close(sv[1]);
	sv[1] = -1;
	if ((rc = follow_setup(sp, pid, sv[0], on_hooks, ud, err)) < 0)
		goto out;
	*pidp = pid;
	*pidfdp = pidfd;
	pidfd = -1;
out:
	if (rc < 0 && pid > 0) {
		kill(pid, SIGKILL);
		while (waitpid(pid, &status, __WALL) < 0 && errno == EINTR)
			;
	}
	if (pidfd >= 0)
		close(pidfd);
	for (size_t i = 0; i < nns; i++)
		close(nsfd[i]);
	if (sv[0] >= 0)
		close(sv[0]);
	if (sv[1] >= 0)
		close(sv[1]);
	free(pr.hargv);
	bt_rt_cgmount_clear(&pr.cgm);
	return rc;
}
