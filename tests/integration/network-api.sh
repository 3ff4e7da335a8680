#!/bin/sh
# Runs network-api.c inside a network namespace this test makes, so every
# bridge, veth, nft rule and packet stays there; then checks that nothing
# of berth's is left in it (no berth link, no table inet berth but for the
# default network's), and removes the namespace even on failure.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
: "${top_builddir:=$(cd "$here/../.." && pwd)}"
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root"; exit 77; }
command -v ip >/dev/null || { echo "SKIP: ip (iproute2) is not installed"; exit 77; }
ns=bt-netapi-$$
T=$(mktemp -d /tmp/berth-net-api-XXXXXX)
trap 'ip netns del "$ns" 2>/dev/null || true; rm -rf "$T" /run/berth-test-network-api' EXIT
# what the test leaves of berth's (lib/leaks.sh): checked at the end; its
# own namespace is removed by the trap
. "$here/lib/leaks.sh"
bt_leaks_begin "$T"
ip netns add "$ns"
in_ns() { nsenter --net="/run/netns/$ns" "$@"; }
in_ns ip link set lo up
timeout -k 5 120 nsenter --net="/run/netns/$ns" "$top_builddir/tests/integration/network-api" "$T/root"
left=$(in_ns ip -o link show | awk -F': ' '{print $2}' | grep -v -e '^lo$' -e '^berth0$' || true)
[ -z "$left" ] || { echo "FAIL: links left: $left"; exit 1; }
rules=$(in_ns nft list table inet berth 2>/dev/null || true)
echo "$rules" | grep -q 'berth-\|bt-br' && { echo "FAIL: rules of removed networks left: $rules"; exit 1; }
ls "$T/root/networks/"*/leases/* 2>/dev/null && { echo "FAIL: leases left"; exit 1; }
echo "ok: only the default network's bridge and rules are left"
bt_leaks_end
