#!/bin/sh
# The cost of a network (issue 14), side by side in one run:
#   `berth run --rm busybox /bin/true` on the default bridge, beside berth's
#   own --network none and `podman run --rm` on podman's default network
#   (netavark, its bridge and firewall rules); medians.
#   Targets: bridge <= 0.15x podman, and <= none + 10 ms.
#
#   RUNS=30 bench/network.sh [BUILD_DIR]
#
# Everything runs inside a network namespace the bench makes (nsenter
# --net), so berth0, podman0, their veths and rules stay there; the
# stores live below one temp dir; all is removed at exit. Needs root,
# hyperfine, podman, netavark, crun, conmon, skopeo. Results: stdout and
# bench/results/network.json.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-$here/../build}" && pwd)
runs=${RUNS:-30}
out="$here/results"
mkdir -p "$out"
. "$here/../tests/integration/lib/bundle.sh"
bt_skip() { echo "bench: $*"; exit 1; }
[ "$(id -u)" -eq 0 ] || bt_skip "needs root"
for tool in hyperfine podman crun conmon skopeo ip; do
	command -v "$tool" >/dev/null || bt_skip "$tool not found (apt-get install $tool)"
done
[ -x /usr/lib/podman/netavark ] || bt_skip "netavark not found (apt-get install netavark)"
bt_tmp_setup bench-net
T=$BT_TMP
ns=bt-bench-net-$$
ip netns add "$ns"
bt_cleanup_add "ip netns del $ns 2>/dev/null || true"
nsenter --net="/run/netns/$ns" ip link set lo up
in_ns="nsenter --net=/run/netns/$ns"

export LD_LIBRARY_PATH="$build/lib/.libs"
export BERTH_MONITOR="$build/lib/container/.libs/berth-monitor"
export BERTH_DATADIR="$here/../data"
berth_bin="$build/examples/berth/.libs/berth"
[ -x "$berth_bin" ] || bt_skip "build berth first ($berth_bin)"
berth="$in_ns $berth_bin --root $T/berth --runroot $T/berth-run"
podman="$in_ns podman --root $T/podman --runroot $T/podman-run --storage-driver overlay --cgroup-manager cgroupfs --events-backend none --network-backend netavark"
# this host withholds CAP_SYS_RESOURCE: podman's default rlimits cannot be set
podman_run="$podman run --rm --ulimit nofile=1024:1024 --ulimit nproc=4096:4096"

/usr/bin/python3 "$here/../tests/integration/lib/registry-mkimage.py" "$T/layout" > /dev/null
mkdir -p "$T/berth/content"
skopeo copy -q "oci:$T/layout:busybox" "oci:$T/berth/content:docker.io/library/busybox:latest"
skopeo copy -q "oci:$T/layout:busybox" \
	"containers-storage:[overlay@$T/podman+$T/podman-run]docker.io/library/busybox:latest"
bt_cleanup_add "$podman rm -af -t 0 >/dev/null 2>&1; $podman rmi -af >/dev/null 2>&1; umount -R $T/podman/overlay 2>/dev/null || true"
bt_cleanup_add "for c in \$($berth ps -aq --no-trunc 2>/dev/null); do $berth rm -f \$c >/dev/null 2>&1; done"

$berth run --rm --network bridge busybox /bin/true || bt_skip "berth run --network bridge fails"
$podman_run busybox /bin/true || bt_skip "podman run fails"
# netavark removes podman0 with the last container: ask podman instead
[ "$($podman info --format '{{.Host.NetworkBackend}}')" = netavark ] || bt_skip "podman does not use netavark here"
$podman_run busybox cat /proc/net/route | grep -q eth0 || bt_skip "podman's container got no eth0"

hyperfine -N --warmup 2 --runs "$runs" --export-json "$T/net.json" \
	-n bridge "$berth run --rm --network bridge busybox /bin/true" \
	-n none "$berth run --rm --network none busybox /bin/true" \
	-n podman "$podman_run busybox /bin/true" >/dev/null 2>&1

/usr/bin/python3 - "$out/network.json" "$T/net.json" <<'PY'
import json, statistics, sys
res_file, data = sys.argv[1:3]
med = {r["command"]: statistics.median(r["times"]) * 1000 for r in json.load(open(data))["results"]}
n = len(json.load(open(data))["results"][0]["times"])
print(f"run --rm busybox /bin/true, {n} runs each (median):")
for k in ("bridge", "none", "podman"):
    print(f"  {k:7s} {med[k]:8.1f} ms")
r = med["bridge"] / med["podman"]
d = med["bridge"] - med["none"]
print(f"bridge / podman (netavark) = {r:.3f} (target <= 0.15: {'met' if r <= 0.15 else 'NOT met'})")
print(f"bridge - none = {d:+.1f} ms (target <= +10 ms: {'met' if d <= 10 else 'NOT met'})")
json.dump({"median_ms": med, "runs": n}, open(res_file, "w"), indent=2)
PY
