/* Attach and resize: the monitor's socket and its clients.
 *
 * The monitor of a detached container listens on
 * <runroot>/containers/<id>/attach.sock (SOCK_SEQPACKET, so each message
 * keeps its bounds). Each message starts with a type byte:
 *
 *   client -> monitor  'a'            attach: send me the output from now on
 *                      'r' ROWS COLS  resize the terminal (decimal text)
 *                      'i' BYTES      to the container's stdin
 *                      'c'            stdin ended
 *   monitor -> client  '1' BYTES      stdout (a terminal's whole output)
 *                      '2' BYTES      stderr
 *                      'x' CODE OOM   how the container ended (decimal text)
 *
 * The monitor closes every connection once the container's output ended,
 * which is how an attached client learns of the end. The socket is reached
 * through /proc/self/fd/<dirfd>/ so no path outgrows sun_path's 108 bytes. */
#include "container-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define CLIENTS_MAX 16
#define MSG_MAX (16384 + 1)
/* A client that cannot take output for this long is dropped: the
 * container's output never waits on a stuck reader for long. */
#define CLIENT_STALL_MS 1000

struct bt_ct_attach {
	int dirfd, listen_fd;
	int clients[CLIENTS_MAX];
	bool attached[CLIENTS_MAX];
	bool any_attached;
};

char *bt_ct_run_dir(const berth_ctx *ctx, const char *id)
{
	return bt_strdup_printf("%s/containers/%s", ctx->runroot, id);
}

/* "/proc/self/fd/N/attach.sock" for dirfd N. */
static void sock_addr(int dirfd, struct sockaddr_un *a)
{
	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	snprintf(a->sun_path, sizeof(a->sun_path), "/proc/self/fd/%d/attach.sock", dirfd);
}

/* ---- the monitor's side --------------------------------------------------- */

int bt_ct_attach_listen(const char *dir, struct bt_ct_attach **out, berth_error **err)
{
	struct bt_ct_attach *a = calloc(1, sizeof(*a));
	struct sockaddr_un addr;
	int rc;

	if (!a)
		return bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
	for (int i = 0; i < CLIENTS_MAX; i++)
		a->clients[i] = -1;
	a->listen_fd = -1;
	if ((rc = bt_mkdir_p(dir, 0700, err)) < 0)
		goto fail;
	if ((a->dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0 ||
	    (a->listen_fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) < 0) {
		rc = bt_error_os(err, "making the attach socket in %s", dir);
		goto fail;
	}
	sock_addr(a->dirfd, &addr);
	unlinkat(a->dirfd, "attach.sock", 0);
	if (bind(a->listen_fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 || listen(a->listen_fd, 8) < 0) {
		rc = bt_error_os(err, "listening on %s/attach.sock", dir);
		goto fail;
	}
	*out = a;
	return 0;
fail:
	bt_ct_attach_close(a);
	return rc;
}

bool bt_ct_attach_any(const struct bt_ct_attach *a)
{
	return a && a->any_attached;
}

size_t bt_ct_attach_pollfds(const struct bt_ct_attach *a, struct pollfd *p)
{
	size_t n = 0;

	if (!a)
		return 0;
	p[n++] = (struct pollfd){ .fd = a->listen_fd, .events = POLLIN };
	for (int i = 0; i < CLIENTS_MAX; i++)
		p[n++] = (struct pollfd){ .fd = a->clients[i], .events = POLLIN };
	return n;
}

static void drop(struct bt_ct_attach *a, int i)
{
	close(a->clients[i]);
	a->clients[i] = -1;
	a->attached[i] = false;
}

/* Writes all of buf to a non-blocking fd, waiting at most CLIENT_STALL_MS. */
static int write_bounded(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);
		struct pollfd p = { .fd = fd, .events = POLLOUT };

		if (n > 0) {
			buf += n;
			len -= (size_t)n;
		} else if (n < 0 && errno != EAGAIN && errno != EINTR) {
			return -1;
		} else if (n < 0 && errno == EAGAIN && poll(&p, 1, CLIENT_STALL_MS) <= 0) {
			return -1;
		}
	}
	return 0;
}

/* One message of client i. */
static void client_message(struct bt_ct_attach *a, int i, const struct bt_ct_io *io)
{
	char msg[MSG_MAX + 1];
	ssize_t n = recv(a->clients[i], msg, MSG_MAX, MSG_DONTWAIT);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		drop(a, i);
		return;
	}
	msg[n] = '\0';
	switch (msg[0]) {
	case 'a':
		a->attached[i] = a->any_attached = true;
		break;
	case 'r': {
		struct winsize ws = { 0 };
		unsigned rows, cols;

		if (io->pty >= 0 && sscanf(msg + 1, "%u %u", &rows, &cols) == 2) {
			ws.ws_row = (unsigned short)rows;
			ws.ws_col = (unsigned short)cols;
			ioctl(io->pty, TIOCSWINSZ, &ws);
		}
		break;
	}
	case 'i':
		if (*io->input >= 0 && write_bounded(*io->input, msg + 1, (size_t)n - 1) < 0 && io->pty < 0) {
			close(*io->input);
			*io->input = -1;
		}
		break;
	case 'c':
		/* a terminal's end of input is its EOF character; a pipe closes */
		if (io->pty >= 0)
			write_bounded(io->pty, "\x04", 1);
		else if (*io->input >= 0) {
			close(*io->input);
			*io->input = -1;
		}
		break;
	}
}

void bt_ct_attach_handle(struct bt_ct_attach *a, const struct pollfd *p, const struct bt_ct_io *io)
{
	if (!a)
		return;
	if (p[0].revents & POLLIN) {
		int fd = accept4(a->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		int i = 0;

		while (i < CLIENTS_MAX && a->clients[i] >= 0)
			i++;
		if (fd >= 0 && i < CLIENTS_MAX)
			a->clients[i] = fd;
		else if (fd >= 0)
			close(fd);
	}
	for (int i = 0; i < CLIENTS_MAX; i++)
		if (a->clients[i] >= 0 && p[1 + i].fd == a->clients[i] && p[1 + i].revents)
			client_message(a, i, io);
}

void bt_ct_attach_broadcast(struct bt_ct_attach *a, int stream, const char *buf, size_t len)
{
	char msg[MSG_MAX];

	if (!a)
		return;
	while (len) {
		size_t n = len < MSG_MAX - 1 ? len : MSG_MAX - 1;

		msg[0] = stream ? '2' : '1';
		memcpy(msg + 1, buf, n);
		for (int i = 0; i < CLIENTS_MAX; i++) {
			if (!a->attached[i])
				continue;
			if (send(a->clients[i], msg, n + 1, MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
				struct pollfd p = { .fd = a->clients[i], .events = POLLOUT };

				if (errno != EAGAIN || poll(&p, 1, CLIENT_STALL_MS) <= 0 ||
				    send(a->clients[i], msg, n + 1, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
					drop(a, i);
			}
		}
		buf += n;
		len -= n;
	}
}

void bt_ct_attach_exit(struct bt_ct_attach *a, int code, int oom_killed)
{
	char msg[64];
	int n = snprintf(msg, sizeof(msg), "x%d %d", code, oom_killed);

	for (int i = 0; a && i < CLIENTS_MAX; i++)
		if (a->attached[i])
			send(a->clients[i], msg, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL);
}

void bt_ct_attach_drop_attached(struct bt_ct_attach *a)
{
	for (int i = 0; a && i < CLIENTS_MAX; i++)
		if (a->attached[i])
			drop(a, i);
}

void bt_ct_attach_close(struct bt_ct_attach *a)
{
	if (!a)
		return;
	for (int i = 0; i < CLIENTS_MAX; i++)
		if (a->clients[i] >= 0)
			drop(a, i);
	if (a->listen_fd >= 0) {
		unlinkat(a->dirfd, "attach.sock", 0);
		close(a->listen_fd);
	}
	if (a->dirfd >= 0)
		close(a->dirfd);
	free(a);
}

/* ---- the client's side ---------------------------------------------------- */

/* Connects to the monitor of a running container; its Tty in *tty. */
static int connect_monitor(berth_ctx *ctx, const char *name, int *fd, bool *tty, berth_error **err)
{
	struct sockaddr_un addr;
	struct bt_ct *ct;
	char *dir = NULL;
	int rc, dirfd = -1;

	*fd = -1;
	if ((rc = bt_ct_open(ctx, name, &ct, err)) < 0)
		return rc;
	if (strcmp(bt_ct_status(ct), "running") && strcmp(bt_ct_status(ct), "paused")) {
		rc = bt_error_set(err, BERTH_ESTATE, 0, "You cannot attach to a stopped container, start it first");
		goto out;
	}
	if (tty)
		*tty = json_is_true(json_object_get(json_object_get(ct->config, "Config"), "Tty"));
	if (!(dir = bt_ct_run_dir(ctx, ct->id))) {
		rc = bt_error_set(err, BERTH_ENOMEM, 0, "out of memory");
		goto out;
	}
	if ((dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0 ||
	    (*fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0)) < 0) {
		rc = bt_error_os(err, "container %s: its monitor's socket", name);
		goto out;
	}
	sock_addr(dirfd, &addr);
	if (connect(*fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		rc = bt_error_os(err, "container %s: connecting to its monitor (%s/attach.sock)", name, dir);
		close(*fd);
		*fd = -1;
	}
out:
	if (dirfd >= 0)
		close(dirfd);
	free(dir);
	bt_ct_close(ct);
	return rc;
}

int berth_container_resize(berth_ctx *ctx, const char *name, unsigned rows, unsigned cols,
			   berth_error **err)
{
	char msg[64];
	bool tty;
	int fd, rc, n;

	if ((rc = connect_monitor(ctx, name, &fd, &tty, err)) < 0)
		return rc;
	if (!tty) {
		close(fd);
		return bt_error_set(err, BERTH_ESTATE, 0, "container %s has no terminal", name);
	}
	n = snprintf(msg, sizeof(msg), "r%u %u", rows, cols);
	if (send(fd, msg, (size_t)n, MSG_NOSIGNAL) < 0)
		rc = bt_error_os(err, "container %s: resizing its terminal", name);
	close(fd);
	return rc;
}

/* "ctrl-p,ctrl-q" as bytes; -1 for a key Docker does not know. */
static int parse_keys(const char *spec, char *keys, size_t cap)
{
	size_t n = 0;

	while (*spec) {
		size_t len = strcspn(spec, ",");

		if (n == cap)
			return -1;
		if (len == 1)
			keys[n++] = spec[0];
		else if (len == 6 && !strncmp(spec, "ctrl-", 5) && strchr("abcdefghijklmnopqrstuvwxyz@[\\]^_", spec[5]))
			keys[n++] = (char)(spec[5] & 0x1f);
		else
			return -1;
		spec += len;
		if (*spec)
			spec++;
	}
	return (int)n;
}

struct attach_io {
	int sock;
	berth_container_exit how;
	char keys[16];
	int nkeys, matched; /* detach keys, how many of them just came */
};

/* Sends what came on stdin, holding back a partial detach sequence; 1 when
 * the whole sequence came. */
static int forward_input(struct attach_io *io, const char *buf, size_t len)
{
	char msg[MSG_MAX];
	size_t n = 1;

	msg[0] = 'i';
	for (size_t i = 0; i < len; i++) {
		if (io->nkeys && buf[i] == io->keys[io->matched]) {
			if (++io->matched == io->nkeys)
				return 1;
			continue;
		}
		/* not the sequence after all: what was held goes too */
		for (int k = 0; k < io->matched; k++)
			msg[n++] = io->keys[k];
		io->matched = 0;
		if (io->nkeys && buf[i] == io->keys[0]) {
			io->matched = 1;
			continue;
		}
		msg[n++] = buf[i];
	}
	if (n > 1 && send(io->sock, msg, n, MSG_NOSIGNAL) < 0)
		return -1;
	return 0;
}

static int attach_loop(struct attach_io *io, const berth_container_attach_opts *o, int *detached,
		       berth_error **err)
{
	int in = o->stdin_fd, errfd = o->stderr_fd >= 0 ? o->stderr_fd : o->stdout_fd;
	char buf[MSG_MAX + 1];

	for (;;) {
		struct pollfd p[2] = { { .fd = io->sock, .events = POLLIN }, { .fd = in, .events = POLLIN } };
		ssize_t n;

		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return bt_error_os(err, "attached: poll");
		}
		if (p[0].revents) {
			n = recv(io->sock, buf, MSG_MAX, 0);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				return 0; /* the container's output ended */
			buf[n] = '\0';
			if (buf[0] == 'x')
				sscanf(buf + 1, "%d %d", &io->how.code, &io->how.oom_killed);
			else if (n > 1)
				bt_write_all(buf[0] == '2' ? errfd : o->stdout_fd, buf + 1, (size_t)n - 1);
		}
		if (in >= 0 && p[1].revents) {
			int r;

			n = read(in, buf, MSG_MAX - 1);
			if (n < 0 && (errno == EINTR || errno == EAGAIN))
				continue;
			if (n <= 0) {
				send(io->sock, "c", 1, MSG_NOSIGNAL);
				in = -1;
				continue;
			}
			if ((r = forward_input(io, buf, (size_t)n)) == 1) {
				*detached = 1;
				return 0;
			}
			if (r < 0)
				return 0; /* the monitor went away */
		}
	}
}

int berth_container_attach(berth_ctx *ctx, const char *name, const berth_container_attach_opts *opts,
			   berth_container_exit *how, int *detached, berth_error **err)
{
	berth_container_attach_opts o = BERTH_CONTAINER_ATTACH_OPTS_INIT;
	struct attach_io io = { .sock = -1, .how = BERTH_CONTAINER_EXIT_INIT };
	int rc, ignored;

	io.how.code = -1;
	if (!detached)
		detached = &ignored;
	*detached = 0;
	if ((rc = bt_opts_copy(&o, sizeof(o), opts, "berth_container_attach_opts", err)) < 0)
		return rc;
	if ((io.nkeys = parse_keys(o.detach_keys ? o.detach_keys : "ctrl-p,ctrl-q", io.keys, sizeof(io.keys))) < 0)
		return bt_error_set(err, BERTH_EINVAL, 0, "Invalid detach keys (%s) provided", o.detach_keys);
	if ((rc = connect_monitor(ctx, name, &io.sock, NULL, err)) < 0)
		return rc;
	if (send(io.sock, "a", 1, MSG_NOSIGNAL) < 0)
		rc = bt_error_os(err, "container %s: attaching", name);
	else
		rc = attach_loop(&io, &o, detached, err);
	close(io.sock);
	if (how && rc == 0)
		bt_opts_copy_out(how, &io.how, sizeof(io.how));
	return rc;
}
