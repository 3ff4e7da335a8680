#!/bin/sh
# The engine's start cost and footprint (issue 12), side by side in one run
# (the machine is shared and noisy, so only the ratios mean much):
#   - `berth run --rm busybox /bin/true` beside `podman run --rm --network
#     none` (crun, conmon) on the same image, and beside `crun run` of an
#     unpacked bundle; medians. Targets: berth <= 0.1x podman, <= crun + 5 ms.
#   - the private memory (Pss) of a detached container's monitor beside
#     conmon's for podman's; target under 1 MiB.
#   - PS_N detached containers (default 100) started, listed (`berth ps` vs
#     `podman ps`, target <= 0.2x) and removed.
#
#   BENCH_HUGETLB_V1=1 RUNS=30 bench/run.sh [BUILD_DIR]
#
# Needs root, hyperfine, podman, crun, conmon, skopeo, busybox-static.
# Everything lives below one temp dir (podman with --root/--runroot of its
# own) and is removed at exit. Results: stdout and bench/results/run.json.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-$here/../build}" && pwd)
runs=${RUNS:-30}
ps_n=${PS_N:-100}
out="$here/results"
mkdir -p "$out"
. "$here/../tests/integration/lib/bundle.sh"
. "$here/hugetlb.sh"
bt_skip() { echo "bench: $*"; exit 1; }
[ "$(id -u)" -eq 0 ] || bt_skip "needs root"
for tool in hyperfine podman crun conmon skopeo; do
	command -v "$tool" >/dev/null || bt_skip "$tool not found (apt-get install $tool)"
done
bt_tmp_setup bench-run
T=$BT_TMP
cg=$(basename "$T")

# the real binaries, not libtool's wrapper scripts (a shell would be timed too)
export LD_LIBRARY_PATH="$build/lib/.libs"
export BERTH_MONITOR="$build/lib/container/.libs/berth-monitor"
export BERTH_DATADIR="$here/../data"
berth_bin="$build/examples/berth/.libs/berth"
[ -x "$berth_bin" ] && [ -x "$BERTH_MONITOR" ] || bt_skip "build berth first ($berth_bin, $BERTH_MONITOR)"
berth="$berth_bin --root $T/berth --runroot $T/berth-run"
podman="podman --root $T/podman --runroot $T/podman-run --storage-driver overlay --cgroup-manager cgroupfs --events-backend none"
# this host withholds CAP_SYS_RESOURCE: podman's default rlimits cannot be set
podman_run="$podman run --rm --network none --ulimit nofile=1024:1024 --ulimit nproc=4096:4096"

# one image for all: busybox-static made offline
/usr/bin/python3 "$here/../tests/integration/lib/registry-mkimage.py" "$T/layout" > /dev/null
mkdir -p "$T/berth/content"
skopeo copy -q "oci:$T/layout:busybox" "oci:$T/berth/content:docker.io/library/busybox:latest"
skopeo copy -q "oci:$T/layout:busybox" \
	"containers-storage:[overlay@$T/podman+$T/podman-run]docker.io/library/busybox:latest"
bt_cleanup_add "$podman rm -af -t 0 >/dev/null 2>&1; $podman rmi -af >/dev/null 2>&1; umount -R $T/podman/overlay 2>/dev/null || true"
bt_cleanup_add "for c in \$($berth ps -aq --no-trunc 2>/dev/null); do $berth rm -f \$c >/dev/null 2>&1; done"
bundle=$T/bundle
bt_bundle_make "$bundle" "$(command -v crun)" /bin/true
bt_config_edit "$bundle/config.json" 'c.setdefault("linux", {})["cgroupsPath"] = "/" + args[0]' "$cg"
bt_cleanup_add "bt_cgroup_remove '$cg'"

crun_try() { crun --root "$T/state-crun" run -b "$bundle" "$cg-probe" > "$T/crun-probe" 2>&1; }
bench_crun_ready crun_try "$T/crun-probe" || bt_skip "crun does not run here (BENCH_HUGETLB_V1=1?)"
$berth run --rm busybox /bin/true || bt_skip "berth run fails"
$podman_run busybox /bin/true || bt_skip "podman run fails"

# ---- start: run --rm /bin/true ------------------------------------------------
rounds=${ROUNDS:-3}
per=$(((runs + rounds - 1) / rounds))
for r in $(seq 1 "$rounds"); do
	hyperfine -N --warmup 2 --runs "$per" --export-json "$T/round-$r.json" \
		-n berth "$berth run --rm busybox /bin/true" \
		-n podman "$podman_run busybox /bin/true" \
		-n crun "crun --root $T/state-crun run -b $bundle $cg-run" >/dev/null 2>&1
done

# ---- monitor memory: Pss of a detached container's monitor and of conmon --------
pss() { awk '/^Pss:/ { print $2 }' "/proc/$1/smaps_rollup"; }
$berth run -d --name mem busybox sh -c 'while :; do sleep 1; done' > /dev/null
mon=$($berth container inspect -f '{{.State.MonitorPid}}' mem)
$podman run -d --name mem --network none --ulimit nofile=1024:1024 --ulimit nproc=4096:4096 \
	busybox sh -c 'while :; do sleep 1; done' > /dev/null
cid=$($podman inspect -f '{{.Id}}' mem)
conmon_pid=$(pgrep -f "conmon .*$cid" | head -1)
echo "pss_monitor_kib=$(pss "$mon") pss_conmon_kib=$(pss "$conmon_pid")" > "$T/pss"
$berth rm -f mem > /dev/null
$podman rm -f -t 0 mem > /dev/null

# ---- ps with PS_N detached containers ----------------------------------------------
ps_ms=
if [ "$ps_n" -gt 0 ]; then
	i=0
	while [ $i -lt "$ps_n" ]; do
		$berth run -d busybox sh -c 'while :; do sleep 10; done' > /dev/null
		$podman run -d --network none --ulimit nofile=1024:1024 --ulimit nproc=4096:4096 \
			busybox sh -c 'while :; do sleep 10; done' > /dev/null
		i=$((i + 1))
	done
	hyperfine -N --warmup 2 --runs 10 --export-json "$T/ps.json" \
		-n "berth ps" "$berth ps" -n "podman ps" "$podman ps" >/dev/null 2>&1
	t0=$(date +%s%N)
	$berth rm -f $($berth ps -aq --no-trunc) > /dev/null
	t1=$(date +%s%N)
	$podman rm -af -t 0 > /dev/null
	t2=$(date +%s%N)
	ps_ms="$(( (t1 - t0) / 1000000 )) $(( (t2 - t1) / 1000000 ))"
fi

/usr/bin/python3 - "$out/run.json" "$T" "$ps_n" "$ps_ms" "$T"/round-*.json <<'PY'
import json, os, statistics, sys
res_file, tmp, ps_n, ps_ms = sys.argv[1:5]
times = {}
for f in sys.argv[5:]:
    for r in json.load(open(f))["results"]:
        times.setdefault(r["command"], []).extend(r["times"])
med = {k: statistics.median(v) * 1000 for k, v in times.items()}
pss = dict(kv.split("=") for kv in open(os.path.join(tmp, "pss")).read().split())
pss = {k: int(v) for k, v in pss.items()}
n = len(times["berth"])
print(f"run --rm busybox /bin/true, {n} runs each (median):")
for k in ("berth", "podman", "crun"):
    print(f"  {k:7s} {med[k]:8.1f} ms")
r_podman = med["berth"] / med["podman"]
d_crun = med["berth"] - med["crun"]
print(f"berth / podman = {r_podman:.3f} (target <= 0.10: {'met' if r_podman <= 0.1 else 'NOT met'})")
print(f"berth - crun = {d_crun:+.1f} ms (target <= +5 ms: {'met' if d_crun <= 5 else 'NOT met'})")
print(f"monitor Pss {pss['pss_monitor_kib']} KiB, conmon {pss['pss_conmon_kib']} KiB "
      f"(target < 1024 KiB: {'met' if pss['pss_monitor_kib'] < 1024 else 'NOT met'})")
summary = {"median_ms": med, "pss_kib": pss}
if int(ps_n):
    ps = {r["command"]: statistics.median(r["times"]) * 1000
          for r in json.load(open(os.path.join(tmp, "ps.json")))["results"]}
    rm_berth, rm_podman = (int(x) for x in ps_ms.split())
    r = ps["berth ps"] / ps["podman ps"]
    print(f"{ps_n} detached containers: berth ps {ps['berth ps']:.1f} ms, podman ps {ps['podman ps']:.1f} ms,"
          f" {r:.3f}x (target <= 0.2: {'met' if r <= 0.2 else 'NOT met'}); rm -f of all: berth {rm_berth} ms,"
          f" podman {rm_podman} ms")
    summary.update(ps_ms=ps, rm_all_ms={"berth": rm_berth, "podman": rm_podman})
json.dump(summary, open(res_file, "w"), indent=2)
PY
hugetlb_unmount
