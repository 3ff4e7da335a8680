/* The process contract with an embedder: what a container's process is
 * given (its stdio and extra fds, a terminal) and what the caller gets back
 * (berth_runtime_process: pid, pidfd, pty master; signals through the pidfd,
 * a wait that says how it ended, recorded in the container's state for
 * every other process to read). */
#define _GNU_SOURCE
#include "runtime-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

struct berth_runtime_process {
	berth_runtime *rt;
	char *id;     /* the container */
	bool init;    /* its init: how it ended goes into the state */
	int pid;
	int pidfd;
	int pty;      /* the terminal's master, or -1 */
	bool ended;
	berth_runtime_exit exit;
};

/* ---- what the process is given ---------------------------------------- */

static int connect_console(const char *path, int *fd, berth_error **err)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	if (strlen(path) >= sizeof(sa.sun_path))
		return bt_error_set(err, BERTH_EINVAL, 0, "console socket %s: path too long", path);
	strcpy(sa.sun_path, path);
	if ((*fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return bt_error_os(err, "connecting to console socket %s", path);
	if (connect(*fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int rc = bt_error_os(err, "connecting to console socket %s", path);
		close(*fd);
		*fd = -1;
		return rc;
	}
	return 0;
}

int bt_rt_io_prepare(bt_rt_io *io, bool terminal, const bt_rt_io_opts *o, berth_error **err)
{
	io->console = io->pty_peer = -1;
	if (o->nfds && o->preserve_fds)
		return bt_error_set(err, BERTH_EINVAL, 0, "fds and preserve_fds: give one of them");
	if (o->nfds > BT_RT_MAX_FDS || (o->nfds && !o->fds))
		return bt_error_set(err, BERTH_EINVAL, 0, "fds: %zu descriptors, at most %d", o->nfds,
				    BT_RT_MAX_FDS);
	for (size_t i = 0; i < 3 + o->nfds; i++) {
		int fd = i < 3 ? (o->stdio ? o->stdio[i] : -1) : o->fds[i - 3];

		if ((i >= 3 || fd >= 0) && fcntl(fd, F_GETFD) < 0)
			return bt_error_set(err, BERTH_EINVAL, EBADF, "%s[%zu]: %d is not an open descriptor",
					    i < 3 ? "stdio" : "fds", i < 3 ? i : i - 3, fd);
	}
	if (!terminal)
		return 0;
	if (o->console_socket)
		return connect_console(o->console_socket, &io->console, err);
	/* no console socket: the master comes back on a socket pair of ours */
	{
		int sv[2];

		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
			return bt_error_os(err, "making the socket for the terminal");
		io->console = sv[0];
		io->pty_peer = sv[1];
	}
	return 0;
}

int bt_rt_io_pty(bt_rt_io *io, int *pty, berth_error **err)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	char data[64];
	struct iovec iov = { data, sizeof(data) };
	struct msghdr mh = { 0 };
	struct cmsghdr *cm;
	struct pollfd pfd = { io->pty_peer, POLLIN, 0 };

	*pty = -1;
	if (io->pty_peer < 0)
		return 0;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = u.buf;
	mh.msg_controllen = sizeof(u.buf);
	/* the child sent it before it said it was ready */
	if (poll(&pfd, 1, 0) != 1 || recvmsg(io->pty_peer, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT) < 0)
		return bt_error_os(err, "receiving the terminal's master");
	cm = CMSG_FIRSTHDR(&mh);
	if (!cm || cm->cmsg_type != SCM_RIGHTS || cm->cmsg_len != CMSG_LEN(sizeof(int)))
		return bt_error_set(err, BERTH_ERROR, 0, "receiving the terminal's master: no descriptor came");
	memcpy(pty, CMSG_DATA(cm), sizeof(int));
	return 0;
}

void bt_rt_io_clear(bt_rt_io *io)
{
	if (io->console >= 0)
		close(io->console);
	if (io->pty_peer >= 0)
		close(io->pty_peer);
	io->console = io->pty_peer = -1;
}

/* ---- what the caller gets back ------------------------------------------ */

int bt_rt_process_new(berth_runtime *rt, const char *id, bool init, int pid, int pidfd, int pty,
		      berth_runtime_process **out, berth_error **err)
{
	berth_runtime_process *p = calloc(1, sizeof(*p));

	if (!p || !(p->id = strdup(id))) {
		free(p);
		return bt_error_set(err, BERTH_ENOMEM, 0, "container %s: out of memory", id);
	}
	p->rt = rt;
	p->init = init;
	p->pid = pid;
	p->pidfd = pidfd;
	p->pty = pty;
	*out = p;
	return 0;
}

int berth_runtime_process_pid(const berth_runtime_process *p)
{
	return p->pid;
}

int berth_runtime_process_pidfd(const berth_runtime_process *p)
{
	return p->pidfd;
}

int berth_runtime_process_pty(const berth_runtime_process *p)
{
	return p->pty;
}

int berth_runtime_process_signal(berth_runtime_process *p, int sig, berth_error **err)
{
	if (sig < 0 || sig > 64)
		return bt_error_set(err, BERTH_EINVAL, 0, "signalling process %d: %d is not a signal", p->pid, sig);
	if (p->ended)
		return bt_error_set(err, BERTH_ESTATE, 0, "signalling process %d: it has ended", p->pid);
	if (syscall(SYS_pidfd_send_signal, p->pidfd, sig, NULL, 0) < 0)
		return errno == ESRCH ? bt_error_set(err, BERTH_ESTATE, 0, "signalling process %d: it has ended",
						     p->pid)
				      : bt_error_os(err, "signalling process %d", p->pid);
	return 0;
}

static void set_exit(berth_runtime_exit *e, const siginfo_t *si, bool oom)
{
	e->signal = si->si_code == CLD_EXITED ? 0 : si->si_status;
	e->code = e->signal ? 128 + e->signal : si->si_status;
	e->oom_killed = oom && e->signal == SIGKILL;
}

int berth_runtime_process_wait(berth_runtime_process *p, int timeout_ms, berth_runtime_exit *out,
			       berth_error **err)
{
	berth_runtime_exit e = BERTH_RUNTIME_EXIT_INIT;
	struct pollfd pfd = { p->pidfd, POLLIN, 0 };
	siginfo_t si;
	int r;

	if (!p->ended) {
		do
			r = poll(&pfd, 1, timeout_ms < 0 ? -1 : timeout_ms);
		while (r < 0 && errno == EINTR);
		if (r == 0)
			return bt_error_set(err, BERTH_ETIMEOUT, ETIMEDOUT,
					    "waiting for process %d: still running after %d ms", p->pid, timeout_ms);
		memset(&si, 0, sizeof(si));
		while (waitid(P_PIDFD, (id_t)p->pidfd, &si, WEXITED | __WALL) < 0)
			if (errno != EINTR)
				return errno == ECHILD
					       ? bt_error_set(err, BERTH_ESTATE, ECHILD,
							      "waiting for process %d: another wait of this "
							      "process took it first", p->pid)
					       : bt_error_os(err, "waiting for process %d", p->pid);
		set_exit(&e, &si, bt_rt_oom_killed(p->rt, p->id));
		p->exit = e;
		p->ended = true;
		/* the init's end is the container's: every process may read it */
		if (p->init && (r = bt_rt_record_exit(p->rt, p->id, p->pid, &e, err)) < 0)
			return r;
	}
	if (out)
		bt_opts_copy_out(out, &p->exit, sizeof(p->exit));
	return 0;
}

void berth_runtime_process_free(berth_runtime_process *p)
{
	if (!p)
		return;
	if (p->pidfd >= 0)
		close(p->pidfd);
	if (p->pty >= 0)
		close(p->pty);
	free(p->id);
	free(p);
}
