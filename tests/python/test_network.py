"""The network methods of berth.Context (berth/network.h).

Bridges, veths and rules may only be made inside a network namespace the
test made: each test runs its script in a child Python under
nsenter --net=/run/netns/bt-py-..., and the namespaces go in the finalizer.
"""
import os
import shutil
import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or not shutil.which("ip") or not shutil.which("nsenter"),
    reason="needs root, ip and nsenter")


@pytest.fixture
def netns(tmp_path):
    """Two test-made namespaces: the host's stand-in and a container's."""
    names = [f"bt-py-{os.getpid()}-host", f"bt-py-{os.getpid()}-ct"]
    for n in names:
        subprocess.run(["ip", "netns", "add", n], check=True)
    yield names
    for n in names:
        subprocess.run(["ip", "netns", "del", n], check=False)


def run_in(ns, script, *args):
    return subprocess.run(
        ["nsenter", f"--net=/run/netns/{ns}", sys.executable, "-c", textwrap.dedent(script), *args],
        capture_output=True, text=True, timeout=120, env=os.environ)


def test_networks_create_attach_inspect_remove(netns, tmp_path):
    host, ct = netns
    out = run_in(host, """
        import os, subprocess, sys, berth

        def lookup(netns, name):
            return subprocess.run(["nsenter", "--net=" + netns, "busybox", "nslookup", name, "10.66.0.1"],
                                  capture_output=True, text=True, timeout=30).stdout

        def check_names(ctx, netns):
            # a bad alias refused; names asked of the gateway from the endpoint's namespace
            try:
                ctx.network_attach("bt-py", "ct-2", pid=os.getpid(), aliases=["no good"])
            except berth.InvalidArgumentError as e:
                assert "alias" in str(e)
            else:
                raise AssertionError("a bad alias accepted")
            ctx.network_endpoint_rename("bt-py", "ct-1", "pyweb")
            ctx.network_detach("bt-py", "ct-1")
            ctx.network_attach("bt-py", "ct-1", netns=netns, endpoint_name="pyweb", aliases=["pydb"])
            assert "Address: 10.66.0.2" in lookup(netns, "pydb"), lookup(netns, "pydb")
            ctx.network_endpoint_rename("bt-py", "ct-1", "pyweb2")
            assert "Address: 10.66.0.2" in lookup(netns, "pyweb2")
            assert "Address: 10.66.0.2" not in lookup(netns, "pyweb")
            try:
                ctx.network_endpoint_rename("bt-py", "ct-none", "x")
            except berth.NotFoundError:
                pass
            else:
                raise AssertionError("rename of no endpoint")

        ctx = berth.Context(root=sys.argv[1], runroot=sys.argv[1] + "/run")
        nid = ctx.network_create("bt-py", subnet="10.66.0.0/24", labels=["team=py"])
        assert len(nid) == 64
        assert ctx.network_names() == ["bridge", "bt-py"]
        try:
            ctx.network_create("bt-py", subnet="10.67.0.0/24")
        except berth.ExistsError as e:
            assert "already exists" in str(e)
        else:
            raise AssertionError("a name twice was accepted")
        try:
            ctx.network_create("bt-bad", subnet="10.68.0.1/24")
        except berth.InvalidArgumentError as e:
            assert "host bits" in str(e)
        else:
            raise AssertionError("host bits accepted")
        a = ctx.network_attach("bt-py", "ct-1", netns=sys.argv[2])
        assert a["Address"] == "10.66.0.2" and a["PrefixLen"] == 24, a
        assert a["Gateway"] == "10.66.0.1" and a["MacAddress"] == "02:42:0a:42:00:02", a
        doc = ctx.network_inspect("bt-py")
        assert doc["Id"] == nid and doc["Labels"] == {"team": "py"}, doc
        assert doc["IPAM"]["Config"][0]["Subnet"] == "10.66.0.0/24", doc
        assert doc["Containers"]["ct-1"]["IPv4Address"] == "10.66.0.2/24", doc
        try:
            ctx.network_remove("bt-py")
        except berth.StateError as e:
            assert "ct-1" in str(e)
        else:
            raise AssertionError("rm while attached")
        if os.path.exists("/usr/lib/podman/aardvark-dns"):
            check_names(ctx, sys.argv[2])
        ctx.network_detach("bt-py", "ct-1")
        assert not os.path.exists(sys.argv[1] + "/networks/.dns/aardvark.pid")
        assert ctx.networks_prune() == ["bt-py"]
        try:
            ctx.network_inspect("bt-py")
        except berth.NotFoundError:
            pass
        else:
            raise AssertionError("a pruned network is still there")
        print("ok")
        """, str(tmp_path / "root"), f"/run/netns/{ct}")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"
    links = subprocess.run(["ip", "-n", host, "-o", "link"], capture_output=True, text=True).stdout
    assert "berthv" not in links and "berth-" not in links
