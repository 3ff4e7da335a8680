/* What `berth-runtime spec` and `features` print: a default config.json in
 * the shape runc writes (busybox-friendly: sh, a read-only root, the usual
 * /proc, /dev, /sys mounts) and the runtime-spec features document. */
#include "runtime-internal.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#if BERTH_HAVE_SECCOMP
#include <seccomp.h>
#endif

static const char default_spec[] =
	"{\n"
	"	\"ociVersion\": \"1.2.0\",\n"
	"	\"process\": {\n"
	"		\"terminal\": true,\n"
	"		\"user\": {\n"
	"			\"uid\": 0,\n"
	"			\"gid\": 0\n"
	"		},\n"
	"		\"args\": [\n"
	"			\"sh\"\n"
	"		],\n"
	"		\"env\": [\n"
	"			\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\",\n"
	"			\"TERM=xterm\"\n"
	"		],\n"
	"		\"cwd\": \"/\",\n"
	"		\"capabilities\": {\n"
	"			\"bounding\": [\n"
	"				\"CAP_AUDIT_WRITE\",\n"
	"				\"CAP_KILL\",\n"
	"				\"CAP_NET_BIND_SERVICE\"\n"
	"			],\n"
	"			\"effective\": [\n"
	"				\"CAP_AUDIT_WRITE\",\n"
	"				\"CAP_KILL\",\n"
	"				\"CAP_NET_BIND_SERVICE\"\n"
	"			],\n"
	"			\"permitted\": [\n"
	"				\"CAP_AUDIT_WRITE\",\n"
	"				\"CAP_KILL\",\n"
	"				\"CAP_NET_BIND_SERVICE\"\n"
	"			],\n"
	"			\"ambient\": [\n"
	"				\"CAP_AUDIT_WRITE\",\n"
	"				\"CAP_KILL\",\n"
	"				\"CAP_NET_BIND_SERVICE\"\n"
	"			]\n"
	"		},\n"
	"		\"rlimits\": [\n"
	"			{\n"
	"				\"type\": \"RLIMIT_NOFILE\",\n"
	"				\"hard\": 1024,\n"
	"				\"soft\": 1024\n"
	"			}\n"
	"		],\n"
	"		\"noNewPrivileges\": true\n"
	"	},\n"
	"	\"root\": {\n"
	"		\"path\": \"rootfs\",\n"
	"		\"readonly\": true\n"
	"	},\n"
	"	\"hostname\": \"berth\",\n"
	"	\"mounts\": [\n"
	"		{\n"
	"			\"destination\": \"/proc\",\n"
	"			\"type\": \"proc\",\n"
	"			\"source\": \"proc\"\n"
	"		},\n"
	"		{\n"
	"			\"destination\": \"/dev\",\n"
	"			\"type\": \"tmpfs\",\n"
	"			\"source\": \"tmpfs\",\n"
	"			\"options\": [\n"
	"				\"nosuid\",\n"
	"				\"strictatime\",\n"
	"				\"mode=755\",\n"
	"				\"size=65536k\"\n"
	"			]\n"
	"		},\n"
	"		{\n"
	"			\"destination\": \"/dev/pts\",\n"
	"			\"type\": \"devpts\",\n"
	"			\"source\": \"devpts\",\n"
	"			\"options\": [\n"
	"				\"nosuid\",\n"
	"				\"noexec\",\n"
	"				\"newinstance\",\n"
	"				\"ptmxmode=0666\",\n"
	"				\"mode=0620\",\n"
	"				\"gid=5\"\n"
	"			]\n"
	"		},\n"
	"		{\n"
	"			\"destination\": \"/dev/shm\",\n"
	"			\"type\": \"tmpfs\",\n"
	"			\"source\": \"shm\",\n"
	"			\"options\": [\n"
	"				\"nosuid\",\n"
	"				\"noexec\",\n"
	"				\"nodev\",\n"
	"				\"mode=1777\",\n"
	"				\"size=65536k\"\n"
	"			]\n"
	"		},\n"
	"		{\n"
	"			\"destination\": \"/dev/mqueue\",\n"
	"			\"type\": \"mqueue\",\n"
	"			\"source\": \"mqueue\",\n"
	"			\"options\": [\n"
	"				\"nosuid\",\n"
	"				\"noexec\",\n"
	"				\"nodev\"\n"
	"			]\n"
	"		},\n"
	"		{\n"
	"			\"destination\": \"/sys\",\n"
	"			\"type\": \"sysfs\",\n"
	"			\"source\": \"sysfs\",\n"
	"			\"options\": [\n"
	"				\"nosuid\",\n"
	"				\"noexec\",\n"
	"				\"nodev\",\n"
	"				\"ro\"\n"
	"			]\n"
	"		},\n"
	"		{\n"
	"			\"destination\": \"/sys/fs/cgroup\",\n"
	"			\"type\": \"cgroup\",\n"
	"			\"source\": \"cgroup\",\n"
	"			\"options\": [\n"
	"				\"nosuid\",\n"
	"				\"noexec\",\n"
	"				\"nodev\",\n"
	"				\"relatime\",\n"
	"				\"ro\"\n"
	"			]\n"
	"		}\n"
	"	],\n"
	"	\"linux\": {\n"
	"		\"resources\": {\n"
	"			\"devices\": [\n"
	"				{\n"
	"					\"allow\": false,\n"
	"					\"access\": \"rwm\"\n"
	"				}\n"
	"			]\n"
	"		},\n"
	"		\"namespaces\": [\n"
	"			{\n"
	"				\"type\": \"pid\"\n"
	"			},\n"
	"			{\n"
	"				\"type\": \"network\"\n"
	"			},\n"
	"			{\n"
	"				\"type\": \"ipc\"\n"
	"			},\n"
	"			{\n"
	"				\"type\": \"uts\"\n"
	"			},\n"
	"			{\n"
	"				\"type\": \"mount\"\n"
	"			}\n"
	"		],\n"
	"		\"maskedPaths\": [\n"
	"			\"/proc/acpi\",\n"
	"			\"/proc/asound\",\n"
	"			\"/proc/kcore\",\n"
	"			\"/proc/keys\",\n"
	"			\"/proc/latency_stats\",\n"
	"			\"/proc/timer_list\",\n"
	"			\"/proc/timer_stats\",\n"
	"			\"/proc/sched_debug\",\n"
	"			\"/sys/firmware\",\n"
	"			\"/proc/scsi\"\n"
	"		],\n"
	"		\"readonlyPaths\": [\n"
	"			\"/proc/bus\",\n"
	"			\"/proc/fs\",\n"
	"			\"/proc/irq\",\n"
	"			\"/proc/sys\",\n"
	"			\"/proc/sysrq-trigger\"\n"
	"		]\n"
	"	}\n"
	"}\n";

int berth_runtime_spec_default(int rootless, char **json, berth_error **err)
{
	json_t *spec, *lx, *ns, *map;
	int rc;

	*json = NULL;
	if (!rootless) {
		if (!(*json = strdup(default_spec)))
			return bt_error_set(err, BERTH_ENOMEM, 0, "writing the default config: out of memory");
		return 0;
	}
	/* rootless: a user namespace mapping the caller to root, no network
	 * namespace setup beyond what an unprivileged user may make */
	if ((rc = bt_json_parse(default_spec, strlen(default_spec), "the default config", &spec, err)) < 0)
		return rc; /* the code its error carries */
	lx = json_object_get(spec, "linux");
	ns = json_object_get(lx, "namespaces");
	json_array_append_new(ns, json_pack("{s:s}", "type", "user"));
	map = json_pack("[{s:i,s:i,s:i}]", "containerID", 0, "hostID", (json_int_t)getuid(), "size", 1);
	json_object_set_new(lx, "uidMappings", map);
	map = json_pack("[{s:i,s:i,s:i}]", "containerID", 0, "hostID", (json_int_t)getgid(), "size", 1);
	json_object_set_new(lx, "gidMappings", map);
	json_object_del(lx, "resources");
	*json = json_dumps(spec, JSON_INDENT(8) | JSON_PRESERVE_ORDER);
	json_decref(spec);
	if (!*json)
		return bt_error_set(err, BERTH_ENOMEM, 0, "writing the default config: out of memory");
	return 0;
}

int berth_runtime_features(char **json, berth_error **err)
{
	static const char *const mount_options[] = {
		"async", "atime", "bind", "defaults", "dev", "diratime", "dirsync", "exec", "mand",
		"noatime", "nodev", "nodiratime", "noexec", "nomand", "norelatime", "nostrictatime",
		"nosuid", "nosymfollow", "private", "rbind", "relatime", "remount", "ro", "rprivate",
		"rshared", "rslave", "runbindable", "rw", "shared", "slave", "strictatime", "suid",
		"sync", "unbindable", NULL
	};
	static const char *const caps[] = {
		"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID",
		"CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE",
		"CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW",
		"CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT",
		"CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
		"CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE",
		"CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE",
		"CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ",
		"CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE", NULL
	};
	json_t *f, *a, *lx;

	*json = NULL;
	f = json_pack("{s:s,s:s}", "ociVersionMin", "1.0.0", "ociVersionMax", "1.2.0");
	if (!f)
		return bt_error_set(err, BERTH_ENOMEM, 0, "writing the features: out of memory");
	a = json_array();
	for (int k = 0; k < BT_HOOK_KINDS; k++)
		json_array_append_new(a, json_string(bt_rt_hook_names[k]));
	json_object_set_new(f, "hooks", a);
	a = json_array();
	for (size_t i = 0; mount_options[i]; i++)
		json_array_append_new(a, json_string(mount_options[i]));
	json_object_set_new(f, "mountOptions", a);
	lx = json_pack("{s:[s,s,s,s,s,s,s,s]}", "namespaces", "cgroup", "ipc", "mount", "network",
			  "pid", "time", "user", "uts");
	a = json_array();
	for (size_t i = 0; caps[i]; i++)
		json_array_append_new(a, json_string(caps[i]));
	json_object_set_new(lx, "capabilities", a);
	json_object_set_new(lx, "cgroup", json_pack("{s:b,s:b,s:b,s:b,s:b}", "v1", 1, "v2", 1,
							"systemd", 0, "systemdUser", 0, "rdma", 0));
#if BERTH_HAVE_SECCOMP
	json_object_set_new(lx, "seccomp",
			    json_pack("{s:b,s:[s,s,s,s,s,s,s,s],s:[s,s,s,s,s,s,s],s:[s,s,s]}", "enabled", 1,
				      "actions", "SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL",
				      "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_LOG",
				      "SCMP_ACT_TRACE", "SCMP_ACT_TRAP", "operators", "SCMP_CMP_EQ",
				      "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_LE", "SCMP_CMP_LT",
				      "SCMP_CMP_MASKED_EQ", "SCMP_CMP_NE", "supportedFlags",
				      "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
				      "SECCOMP_FILTER_FLAG_TSYNC"));
#else
	json_object_set_new(lx, "seccomp", json_pack("{s:b}", "enabled", 0));
#endif
	json_object_set_new(lx, "apparmor", json_pack("{s:b}", "enabled", 0));
	json_object_set_new(lx, "selinux", json_pack("{s:b}", "enabled", 0));
	json_object_set_new(f, "linux", lx);
	json_object_set_new(f, "annotations", json_pack("{s:s}", "org.opencontainers.runtime-spec.features.runtime", "berth-runtime"));
	*json = json_dumps(f, JSON_INDENT(4) | JSON_PRESERVE_ORDER);
	json_decref(f);
	if (!*json)
		return bt_error_set(err, BERTH_ENOMEM, 0, "writing the features: out of memory");
	return 0;
}
