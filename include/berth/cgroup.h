/* berth/cgroup.h: control groups for containers on v1, v2 and hybrid hosts.
 *
 * A berth_cgroup is one container's cgroup: a directory in every mounted
 * hierarchy of the host (each v1 hierarchy and the v2 tree; on a hybrid host
 * both). The module only writes into cgroups it created and only moves the
 * process it is asked to attach.
 */
#ifndef BERTH_CGROUP_H
#define BERTH_CGROUP_H

#include <stdint.h>

#include <berth/common.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
	BERTH_CGROUP_NONE = 0,   /* no cgroup file system under /sys/fs/cgroup */
	BERTH_CGROUP_V1 = 1,     /* legacy: v1 hierarchies only */
	BERTH_CGROUP_V2 = 2,     /* unified: the v2 tree only */
	BERTH_CGROUP_HYBRID = 3, /* v1 hierarchies plus a v2 tree at unified/ */
} berth_cgroup_mode;

/* "none", "v1", "v2" or "hybrid". */
BERTH_EXTERN const char *berth_cgroup_mode_name(berth_cgroup_mode mode);

/* The host's cgroup mode and, when controllers is not NULL, its available
 * controllers, space separated (free with berth_string_free()).
 * Errors: EOS when the mount table cannot be read. */
BERTH_EXTERN int berth_cgroup_detect(berth_cgroup_mode *mode, char **controllers,
				     berth_error **err);

/* What the cgroup module sees on this host, as key/value pairs (read them
 * with berth_info_count/key/value/lookup, free with berth_info_free()):
 * "mode" (none, v1, v2 or hybrid), "v1.controllers" (mounted as v1
 * hierarchies), "v2.controllers" (offered by the root of the v2 tree) and
 * "v2.delegated" (passed down by that root to its children, in its
 * cgroup.subtree_control), each space separated and "" when none.
 * Errors: EOS when the hierarchies cannot be listed, ENOMEM. */
BERTH_EXTERN int berth_cgroup_info_new(berth_info **out, berth_error **err);

typedef struct berth_cgroup berth_cgroup;

/* Creates a container's cgroup from an OCI linux.cgroupsPath: absolute
 * ("/a/b") below each hierarchy's root, relative ("a/b") below the calling
 * process's own cgroup, or "/berth/<id>" when cgroups_path is NULL or "".
 * Missing parents are created too. Errors: EEXISTS when the cgroup exists
 * already, ESCAPE for "..", EINVAL for a bad id or path, EUNSUPPORTED for
 * systemd "slice:prefix:name" paths or a host without cgroups, EOS/EPERM
 * from the kernel. Free with berth_cgroup_free(). */
BERTH_EXTERN int berth_cgroup_create(const berth_ctx *ctx, const char *cgroups_path,
				     const char *id, berth_cgroup **out, berth_error **err);
/* Opens a cgroup made earlier by berth_cgroup_create() (for update, pause,
 * stats, delete). Errors: ENOTFOUND when it is missing in some hierarchy. */
BERTH_EXTERN int berth_cgroup_open(const berth_ctx *ctx, const char *cgroups_path,
				   const char *id, berth_cgroup **out, berth_error **err);
/* The cgroup's path below the hierarchy root ("/berth/c1"), borrowed. */
BERTH_EXTERN const char *berth_cgroup_path(const berth_cgroup *cg);

/* Moves process pid into the cgroup in every hierarchy. */
BERTH_EXTERN int berth_cgroup_attach(berth_cgroup *cg, int pid, berth_error **err);

/* Applies an OCI linux.resources object given as JSON text. Every field is
 * checked first; one this host cannot apply is an error naming its JSON path
 * ("linux.resources.hugepageLimits[0]: hugetlb controller not available"),
 * and then nothing is written. Device rules go to the v1 devices controller,
 * or on v2 into an eBPF device program that replaces berth's earlier one
 * (loading it needs CAP_BPF or CAP_SYS_ADMIN). Errors: EINVAL (malformed),
 * EUNSUPPORTED, EPERM/EOS from the kernel. */
BERTH_EXTERN int berth_cgroup_set_resources(berth_cgroup *cg, const char *json,
					    berth_error **err);

/* Freezes every process in the cgroup and waits until the kernel reports the
 * cgroup frozen; thaw lets them run again. Errors: EBUSY when freezing does
 * not complete in time (the cgroup is thawed again), EUNSUPPORTED without a
 * freezer. */
BERTH_EXTERN int berth_cgroup_freeze(berth_cgroup *cg, berth_error **err);
BERTH_EXTERN int berth_cgroup_thaw(berth_cgroup *cg, berth_error **err);

/* Sends SIGKILL to every process in the cgroup, including ones forked while
 * it runs, and waits until it is empty. Errors: EBUSY when it does not
 * empty in time. */
BERTH_EXTERN int berth_cgroup_kill(berth_cgroup *cg, berth_error **err);

/* The processes in the cgroup; free *pids with berth_cgroup_pids_free(). */
BERTH_EXTERN int berth_cgroup_pids(berth_cgroup *cg, int **pids, size_t *count,
				   berth_error **err);
BERTH_EXTERN void berth_cgroup_pids_free(int *pids);

/* A value the host does not report. */
#define BERTH_CGROUP_UNKNOWN UINT64_MAX
/* A limit that is not set ("max"). */
#define BERTH_CGROUP_UNLIMITED (UINT64_MAX - 1)

typedef struct {
	size_t size;             /* sizeof(berth_cgroup_stats): set by the INIT macro */
	uint64_t memory_usage;   /* bytes */
	uint64_t memory_peak;    /* bytes (v1 max_usage_in_bytes, v2 memory.peak) */
	uint64_t memory_limit;   /* bytes or BERTH_CGROUP_UNLIMITED */
	uint64_t oom_kills;      /* processes killed by the OOM killer */
	uint64_t oom_events;     /* times the cgroup hit its limit and the OOM killer ran */
	uint64_t cpu_usage_ns;   /* CPU time used */
	uint64_t pids_current;
	uint64_t pids_limit;     /* or BERTH_CGROUP_UNLIMITED */
	uint64_t io_read_bytes;  /* read from block devices (v1 blkio, v2 io.stat) */
	uint64_t io_write_bytes; /* written to block devices */
} berth_cgroup_stats;

#define BERTH_CGROUP_STATS_INIT { sizeof(berth_cgroup_stats), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 }

/* Fills the fields of *stats that its size covers; BERTH_CGROUP_UNKNOWN
 * where this host does not report a value. */
BERTH_EXTERN int berth_cgroup_stats_get(berth_cgroup *cg, berth_cgroup_stats *stats,
					berth_error **err);

/* Removes the cgroup's directories (and the parents it created, when
 * empty) in every hierarchy, retrying for a while as the last processes
 * exit. Removing a cgroup that is already gone is not an error.
 * Errors: EBUSY when processes remain. */
BERTH_EXTERN int berth_cgroup_remove(berth_cgroup *cg, berth_error **err);
/* Frees the handle; the cgroup itself stays. NULL is allowed. */
BERTH_EXTERN void berth_cgroup_free(berth_cgroup *cg);

#ifdef __cplusplus
}
#endif

#endif
