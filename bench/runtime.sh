#!/bin/sh
# Container start cost: `berth-runtime run` beside `crun run` and `runc run`
# on one busybox bundle running /bin/true, measured side by side in one
# hyperfine run (the machine is shared and noisy, so only the ratios mean
# much).  Target (issue 3): berth-runtime's median <= 0.8x crun's.
# Memory: the peak RSS of the runtime process during `create` (ru_maxrss
# from wait4, taken by a small C helper that forks and execs the runtime, so
# the pre-exec floor is the helper's, shown as "floor"; the container
# process the runtime leaves is not counted), median of a few creates, each
# deleted again.
#
#   bench/runtime.sh [BUILD_DIR]     (default: ./build)
#   RUNS=50 RSS_RUNS=10 BERTH_RUNTIME=/path/berth-runtime bench/runtime.sh
#   BENCH_HUGETLB_V1=1 bench/runtime.sh     (see below)
#
# Needs root, cc, hyperfine, crun, runc and busybox-static (Debian packages).
# berth-runtime joins when it is built; runc or crun join when installed.
# Results go to stdout and to bench/results/runtime.json.
#
# crun 1.8 refuses this mixed v1/v2 host while hugetlb is on cgroup2:
# BENCH_HUGETLB_V1=1 lets bench/hugetlb.sh mount it as v1 for the run.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-$here/../build}" && pwd)
runs=${RUNS:-50}
rss_runs=${RSS_RUNS:-10}
out="$here/results"
mkdir -p "$out"
. "$here/../tests/integration/lib/bundle.sh"
. "$here/hugetlb.sh"
bt_skip() { echo "bench: $*"; exit 1; }

[ "$(id -u)" -eq 0 ] || bt_skip "needs root"
for tool in hyperfine cc; do
	command -v "$tool" >/dev/null || bt_skip "$tool not found (apt-get install $tool)"
done
bt_tmp_setup bench-runtime
T=$BT_TMP
cg=$(basename "$T")

# The real binary, not libtool's wrapper script (a shell would be timed
# too); the library path is exported for all runtimes alike.
berth=${BERTH_RUNTIME:-$build/examples/berth-runtime/berth-runtime}
if [ -x "$berth" ] && head -c 4096 "$berth" | grep -q 'temporary wrapper script'; then
	berth="$(dirname "$berth")/.libs/berth-runtime"
	export LD_LIBRARY_PATH="$build/lib/.libs"
fi
names=
for rt in berth-runtime crun runc; do
	case $rt in
	berth-runtime) bin=$berth ;;
	*) bin=$(command -v "$rt" || true) ;;
	esac
	if [ -n "$bin" ] && [ -x "$bin" ]; then
		names="$names $rt"
		eval "bin_$(echo "$rt" | tr - _)=\$bin"
	else
		echo "bench: $rt not found${bin:+ at $bin}, left out"
	fi
done
binof() { eval "echo \"\$bin_$(echo "$1" | tr - _)\""; }

# One bundle for all: crun's default config, /bin/true, no terminal, and a
# cgroup of ours that each run makes and deletes again.
bundle=$T/bundle
bt_bundle_make "$bundle" "$(command -v crun || command -v runc)" /bin/true
bt_config_edit "$bundle/config.json" 'c.setdefault("linux", {})["cgroupsPath"] = "/" + args[0]' "$cg"
bt_cleanup_add "bt_cgroup_remove '$cg'"

# crun and hybrid cgroups (bench/hugetlb.sh): try once; with
# BENCH_HUGETLB_V1=1 mount hugetlb as v1 when that is what crun refuses.
crun_try() { crun --root "$T/state-crun" run -b "$bundle" "$cg-probe" > "$T/crun-probe" 2>&1; }
if echo "$names" | grep -qw crun && ! bench_crun_ready crun_try "$T/crun-probe"; then
	names=$(echo "$names" | sed 's/ crun//')
fi
for rt in $names; do
	mkdir -p "$T/state-$rt"
	"$(binof "$rt")" --root "$T/state-$rt" run -b "$bundle" "$cg-check" > "$T/check" 2>&1 ||
		bt_skip "$rt run of the bundle fails: $(cat "$T/check")"
done
[ -n "$names" ] || bt_skip "no runtime to measure"

# time: run /bin/true, same container ID each time (run deletes it).  The
# machine is shared, so the runs are split into rounds that take turns
# (hyperfine runs one command's runs back to back); the medians are over
# all rounds, in $out/runtime.json.
set --
for rt in $names; do
	set -- "$@" -n "$rt run" "$(binof "$rt") --root $T/state-$rt run -b $bundle $cg-$rt"
done
rounds=${ROUNDS:-5}
per=$(((runs + rounds - 1) / rounds))
for r in $(seq 1 "$rounds"); do
	hyperfine -N --warmup 3 --runs "$per" --export-json "$T/round-$r.json" "$@" >/dev/null 2>&1
done
/usr/bin/python3 - "$out/runtime.json" "$T"/round-*.json <<'PY'
import json, sys
merged = {}
for f in sys.argv[2:]:
    for r in json.load(open(f))["results"]:
        merged.setdefault(r["command"], {"command": r["command"], "times": []})["times"] += r["times"]
json.dump({"results": list(merged.values())}, open(sys.argv[1], "w"), indent=1)
PY

# memory: peak RSS of the runtime process during create.  The helper forks
# and execs; ru_maxrss also holds the forked child's size before the exec,
# so the helper is a small C program and its floor (exec of a static
# busybox `true`) is printed too.
cat > "$T/rss.c" <<'EOF'
#include <fcntl.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
int main(int argc, char **argv)
{
	struct rusage ru;
	int st, null = open("/dev/null", O_RDWR);
	pid_t pid;

	if (argc < 2 || null < 0 || (pid = fork()) < 0)
		return 2;
	if (pid == 0) {
		dup2(null, 0), dup2(null, 1), dup2(null, 2);
		execv(argv[1], argv + 1);
		_exit(127);
	}
	if (wait4(pid, &st, 0, &ru) < 0)
		return 2;
	printf("%ld %d\n", ru.ru_maxrss, WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
	return 0;
}
EOF
cc -O2 -o "$T/rss" "$T/rss.c"
rss_args=
for rt in $names; do
	rss_args="$rss_args $rt=$(binof "$rt")"
done
# shellcheck disable=SC2086 # one word per runtime
/usr/bin/python3 - "$out/runtime.json" "$T" "$bundle" "$cg" "$rss_runs" $rss_args <<'PY'
import json, os, statistics, subprocess, sys
res_file, tmp, bundle, cg, rss_runs = sys.argv[1:6]
helper = os.path.join(tmp, "rss")
def maxrss(argv):
    kib, status = subprocess.run([helper] + argv, capture_output=True, text=True, check=True).stdout.split()
    return int(kib), int(status)
bins = dict(a.split("=", 1) for a in sys.argv[6:])
res = {r["command"]: r for r in json.load(open(res_file))["results"]}
med = {k.split()[0]: statistics.median(v["times"]) * 1000 for k, v in res.items()}

rss = {}
for rt, b in bins.items():
    state = os.path.join(tmp, "state-" + rt)
    vals = []
    for i in range(int(rss_runs)):
        cid = f"{cg}-rss-{rt}-{i}"
        kib, status = maxrss([b, "--root", state, "create", "-b", bundle, cid])
        subprocess.run([b, "--root", state, "delete", "-f", cid],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if status != 0:
            print(f"{rt} create failed (status {status}); no RSS")
            break
        vals.append(kib)
    if vals:
        rss[rt] = statistics.median(vals)

floor = maxrss([os.path.join(bundle, "rootfs/bin/true")])[0]
runs = len(next(iter(res.values()))["times"])
print(f"runtime run of /bin/true, {runs} runs each (median); peak RSS of `create` (median of {rss_runs};"
      f" floor {floor / 1024:.1f} MiB)")
for rt in bins:
    line = f"  {rt:14s}"
    line += f" run {med[rt]:7.2f} ms" if rt in med else " run     n/a   "
    if "crun" in med and rt in med:
        line += f"  ({med[rt] / med['crun']:.2f}x crun)"
    line += f"   create peak RSS {rss[rt] / 1024:6.1f} MiB" if rt in rss else "   create peak RSS n/a"
    print(line)
if "berth-runtime" in med and "crun" in med:
    r = med["berth-runtime"] / med["crun"]
    print(f"berth-runtime / crun = {r:.2f} (target <= 0.80: {'met' if r <= 0.8 else 'NOT met'})")
json.dump({"median_ms": med, "create_peak_rss_kib": rss, "rss_floor_kib": floor},
          open(os.path.join(os.path.dirname(res_file), "runtime-summary.json"), "w"), indent=2)
PY
hugetlb_unmount
