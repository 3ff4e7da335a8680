/* For runtime-security.sh, run in a container (built static): looks for a
 * user key named argv[1] from the session keyring on (KEYCTL_SEARCH, as
 * `keyctl search @s user NAME` does) and prints "found" or the error, then
 * "session: " and the session keyring's description ("keyring;uid;gid;
 * perm;NAME"). */
#include <errno.h>
#include <linux/keyctl.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	char desc[512];
	long n;

	if (argc != 2) {
		fprintf(stderr, "usage: key-probe NAME\n");
		return 2;
	}
	if (syscall(SYS_keyctl, KEYCTL_SEARCH, KEY_SPEC_SESSION_KEYRING, "user", argv[1], 0) >= 0)
		printf("found\n");
	else
		printf("search: %s\n", strerror(errno));
	n = syscall(SYS_keyctl, KEYCTL_DESCRIBE, KEY_SPEC_SESSION_KEYRING, desc, sizeof(desc));
	printf("session: %s\n", n > 0 && n <= (long)sizeof(desc) ? desc : strerror(errno));
	return 0;
}
