/* berth-exec: the exec helper (exec-helper.h says why and how it is
 * called). Built as a tiny static program without libc where the
 * architecture allows (x86_64, aarch64: raw system calls and a _start of
 * our own), so running it costs one execve and no loader; elsewhere against
 * a static libc. Its bytes are compiled into libberth (exec-helper-elf.c,
 * generated) and written to a sealed memfd at run time. */
#include "exec-helper.h"

#include <linux/fcntl.h>
#include <sys/syscall.h>

#ifndef MSG_NOSIGNAL
#define MSG_NOSIGNAL 0x4000
#endif

#if defined(__x86_64__)
static long sys5(long n, long a, long b, long c, long d, long e)
{
	long ret;
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = e;

	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8)
			 : "rcx", "r11", "memory");
	return ret;
}
__asm__(".text\n.global _start\n_start:\n"
	"\txor %rbp, %rbp\n\tmov %rsp, %rdi\n\tand $-16, %rsp\n\tcall helper_main\n\thlt\n");
#define FREESTANDING 1
#elif defined(__aarch64__)
static long sys5(long n, long a, long b, long c, long d, long e)
{
	register long x8 __asm__("x8") = n;
	register long x0 __asm__("x0") = a;
	register long x1 __asm__("x1") = b;
	register long x2 __asm__("x2") = c;
	register long x3 __asm__("x3") = d;
	register long x4 __asm__("x4") = e;

	__asm__ volatile("svc 0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4) : "memory");
	return x0;
}
__asm__(".text\n.global _start\n_start:\n"
	"\tmov x29, #0\n\tmov x30, #0\n\tmov x0, sp\n\tbl helper_main\n\tb .\n");
#define FREESTANDING 1
#else
#include <errno.h>
#include <unistd.h>
static long sys5(long n, long a, long b, long c, long d, long e)
{
	long r = syscall(n, a, b, c, d, e);
	return r < 0 ? -errno : r;
}
#endif

static unsigned long len(const char *s)
{
	unsigned long n = 0;

	while (s[n])
		n++;
	return n;
}

/* a decimal fd number, or -1 */
static int fd_number(const char *s)
{
	int n = 0;

	if (!*s)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || n > 100000000)
			return -1;
		n = n * 10 + (*s - '0');
	}
	return n;
}

static void say(const char *s)
{
	sys5(__NR_write, 2, (long)s, (long)len(s), 0, 0);
}

static void fail(int sync, const char *prog, long err)
{
	if (sync >= 0) {
		struct bt_sync_msg m;
		const char *what = "executing process.args[0]";
		unsigned long i;
		char *p = (char *)&m;

		for (i = 0; i < sizeof(m); i++)
			p[i] = 0;
		m.type = BT_SYNC_ERROR;
		m.err = (int)err;
		for (i = 0; what[i]; i++)
			m.text[i] = what[i];
		if (sys5(__NR_sendto, sync, (long)&m, sizeof(m), MSG_NOSIGNAL, 0) == sizeof(m))
			sys5(__NR_exit_group, 127, 0, 0, 0, 0);
	}
	/* nobody listens any more (a created container's parent is gone) */
	{
		char num[16];
		int n = 0;
		char digits[12];

		do
			digits[n++] = (char)('0' + err % 10);
		while ((err /= 10) > 0 && n < 11);
		for (int i = 0; i < n; i++)
			num[i] = digits[n - 1 - i];
		num[n] = '\0';
		say("berth: container process: executing ");
		say(prog);
		say(": errno ");
		say(num);
		say("\n");
	}
	sys5(__NR_exit_group, 127, 0, 0, 0, 0);
}

static void run(int argc, char **argv, char **envp)
{
	const char *marker = BT_EXEC_HELPER_ARGV0;
	int sync, fd;
	long rc;

	for (int i = 0; argc > 0 && marker[i] == argv[0][i]; i++)
		if (!marker[i])
			goto ours;
	/* `#!/proc/self/exe` in a container lands here: refuse, never loop */
	say("berth-exec: only berth starts this helper\n");
	sys5(__NR_exit_group, 127, 0, 0, 0, 0);
ours:
	if (argc < BT_EXEC_HELPER_SLOTS + 1) {
		say("berth-exec: missing arguments\n");
		sys5(__NR_exit_group, 127, 0, 0, 0, 0);
	}
	sync = fd_number(argv[1]);
	/* the socket reaches the program only if its execve fails */
	if (sync >= 0)
		sys5(__NR_fcntl, sync, F_SETFD, FD_CLOEXEC, 0, 0);
	if (argv[2][0] == '#' && (fd = fd_number(argv[2] + 1)) >= 0)
		rc = sys5(__NR_execveat, fd, (long)"", (long)(argv + BT_EXEC_HELPER_SLOTS), (long)envp,
			  AT_EMPTY_PATH);
	else
		rc = sys5(__NR_execve, (long)argv[2], (long)(argv + BT_EXEC_HELPER_SLOTS), (long)envp, 0, 0);
	fail(sync, argv[2], -rc);
}

#ifdef FREESTANDING
__attribute__((noreturn, used)) void helper_main(long *sp)
{
	int argc = (int)sp[0];
	char **argv = (char **)(sp + 1);

	run(argc, argv, argv + argc + 1);
	for (;;)
		sys5(__NR_exit_group, 127, 0, 0, 0, 0);
}
#else
int main(int argc, char **argv, char **envp)
{
	run(argc, argv, envp);
	return 127;
}
#endif
