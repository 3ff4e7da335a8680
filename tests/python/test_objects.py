"""docker-py's object layer: ctx.containers, ctx.volumes, ctx.networks and
their objects, on the real store and kernel (root and skopeo needed, as
test_container.py). Every container a test makes is removed, even when
the test fails; networks are made only inside a test-made namespace."""
import io
import os
import shutil
import subprocess
import sys
import tarfile
import textwrap
import threading
import time

import pytest

import berth

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("skopeo") is None,
    reason="needs root and skopeo")


LOOP = ["sh", "-c", "echo started; while :; do sleep 1; done"]


def test_run_returns_stdout_only_as_docker_py(ectx):
    assert ectx.containers.run("busybox", ["sh", "-c", "echo out; echo err >&2"], remove=True) == b"out\n"
    out = ectx.containers.run("busybox", ["sh", "-c", "echo out; sleep 0.1; echo err >&2"], stderr=True,
                              remove=True)
    assert out == b"out\nerr\n"
    assert ectx.containers.run("busybox", "echo split by shlex", remove=True) == b"split by shlex\n"
    assert ectx.container_ids() == []


def test_run_without_remove_keeps_the_container(ectx):
    assert ectx.containers.run("busybox", ["true"], name="py-kept") == b""
    c = ectx.containers.get("py-kept")
    assert (c.name, c.status, c.attrs["State"]["ExitCode"]) == ("py-kept", "exited", 0)


def test_run_non_zero_raises_container_error(ectx):
    cmd = ["sh", "-c", "echo partial; echo broken >&2; exit 3"]
    with pytest.raises(berth.ContainerError) as e:
        ectx.containers.run("busybox", cmd, remove=True)
    err = e.value
    assert isinstance(err, berth.Error)
    assert (err.exit_status, err.stderr, err.command, err.image) == (3, b"broken\n", cmd, "busybox")
    assert isinstance(err.container, berth.Container)
    assert "returned non-zero exit status 3: broken" in str(err)
    assert ectx.container_ids() == []  # removed all the same


def test_run_errors_name_what_was_wrong(ectx):
    with pytest.raises(berth.NotFoundError):
        ectx.containers.run("no-such-image", ["true"])
    ectx.containers.create("busybox", ["true"], name="py-taken")
    with pytest.raises(berth.ExistsError):
        ectx.containers.run("busybox", ["true"], name="py-taken")
    with pytest.raises(berth.NotFoundError):
        ectx.containers.run("busybox", ["/no/such/command"], remove=True)
    with pytest.raises(TypeError, match="no_such_option"):
        ectx.containers.run("busybox", ["true"], no_such_option=1)
    with pytest.raises(berth.InvalidArgumentError, match="mem_limit"):
        ectx.containers.run("busybox", ["true"], mem_limit="lots")
    with pytest.raises(berth.InvalidArgumentError, match="security_opt"):
        ectx.containers.run("busybox", ["true"], security_opt=["apparmor=x"])
    assert [ectx.container_inspect(c)["Name"] for c in ectx.container_ids()] == ["/py-taken"]


def test_get_unknown_container(ectx):
    with pytest.raises(berth.NotFoundError):
        ectx.containers.get("py-nobody")


def test_run_options_in_docker_py_shape(ectx):
    out = ectx.containers.run(
        "busybox", ["sh", "-c", 'echo "$(id -u) $(pwd) $FOO $(hostname) $(cat /proc/self/status | grep NoNewPrivs)"'
                                ' ; ulimit -n; df -k /dev/shm | tail -1'],
        remove=True, user="1000", working_dir="/w", environment={"FOO": "bar"}, hostname="py1",
        security_opt=["no-new-privileges"], ulimits=[{"Name": "nofile", "Soft": 512, "Hard": 512}],
        shm_size="8m", mem_limit="64m", labels={"a": "b"})
    first, nofile, shm = out.decode().splitlines()
    assert first.split() == ["1000", "/w", "bar", "py1", "NoNewPrivs:", "1"]
    assert nofile == "512"
    assert shm.split()[1] == "8192"


def test_detached_life_cycle(ectx):
    c = ectx.containers.run("busybox", LOOP, detach=True, name="py-life", labels={"tier": "web"}, init=True)
    assert isinstance(c, berth.Container)
    assert (c.name, c.status, c.labels) == ("py-life", "running", {"tier": "web"})
    assert c.image.id == ectx.images.get("busybox").id
    assert ectx.containers.get("py-life") == c
    deadline = time.monotonic() + 5
    while c.logs() != b"started\n" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert c.logs() == b"started\n"
    assert c.logs(timestamps=True).split(b" ", 1)[1] == b"started\n"
    assert c.logs(stdout=False) == b""
    assert c.logs(tail=0) == b""
    assert c.logs(since=time.time() + 60) == b""
    c.pause()
    c.reload()
    assert c.status == "paused"
    c.unpause()
    c.reload()
    assert c.status == "running"
    assert any("sleep" in " ".join(p) for p in c.top()["Processes"])
    assert c.stats()["pids_current"] >= 1
    with pytest.raises(berth.TimeoutError):
        c.wait(timeout=0.2)
    c.kill(signal="TERM")
    assert c.wait(timeout=10)["StatusCode"] == 143
    c.reload()
    assert c.status == "exited"
    with pytest.raises(berth.StateError):
        c.stop()
    c.restart()
    c.reload()
    assert c.status == "running"
    c.stop(timeout=1)
    c.remove()
    with pytest.raises(berth.NotFoundError):
        c.reload()


def test_follow_logs_stream_until_it_ends(ectx):
    c = ectx.containers.run("busybox", ["sh", "-c", "for i in 1 2 3; do echo $i; sleep 0.2; done"], detach=True)
    assert list(c.logs(stream=True, follow=True)) == [b"1\n", b"2\n", b"3\n"]
    assert c.logs(tail=1) == b"3\n"


def test_detached_remove_is_auto_remove(ectx):
    c = ectx.containers.run("busybox", ["true"], detach=True, remove=True)
    deadline = time.monotonic() + 10
    while c.id in ectx.container_ids() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert c.id not in ectx.container_ids()


def test_exec_run(ectx):
    c = ectx.containers.run("busybox", LOOP, detach=True)
    assert c.exec_run(["sh", "-c", "echo o; echo e >&2; exit 4"]) == (4, b"o\ne\n")
    assert c.exec_run("sh -c 'echo o; echo e >&2'", demux=True) == (0, (b"o\n", b"e\n"))
    assert c.exec_run(["sh", "-c", "echo $X"], environment={"X": "y"}, stderr=False).output == b"y\n"
    big = c.exec_run(["sh", "-c", "head -c 300000 /dev/zero"])  # more than a pipe holds
    assert big.output == bytes(300000)
    with pytest.raises(berth.NotFoundError):
        c.exec_run(["/no/such"])
    c.kill()
    c.wait()
    with pytest.raises(berth.StateError):
        c.exec_run(["true"])


def test_archives_export_commit_rename_update(ectx):
    c = ectx.containers.create("busybox", ["true"], name="py-files")
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        info = tarfile.TarInfo("hello.txt")
        info.size = 5
        tar.addfile(info, io.BytesIO(b"hello"))
    assert c.put_archive("/tmp", buf.getvalue()) is True
    chunks, stat = c.get_archive("/tmp/hello.txt")
    assert (stat["name"], stat["size"]) == ("hello.txt", 5)
    with tarfile.open(fileobj=io.BytesIO(b"".join(chunks))) as tar:
        assert tar.extractfile("hello.txt").read() == b"hello"
    with tarfile.open(fileobj=io.BytesIO(b"".join(c.export()))) as tar:
        assert "tmp/hello.txt" in tar.getnames()
    assert {"Path": "/tmp/hello.txt", "Kind": 1} in c.diff()
    with pytest.raises(berth.NotFoundError):
        c.get_archive("/no/such")
    img = c.commit("py-committed", tag="v1", changes=["ENV COMMITTED=1"])
    try:
        assert "py-committed:v1" in img.tags
        assert ectx.containers.run(img, ["cat", "/tmp/hello.txt"], remove=True) == b"hello"
    finally:
        ectx.images.remove(img.id, force=True)
    c.rename("py-renamed")
    assert c.name == "py-renamed"
    ectx.containers.create("busybox", ["true"], name="py-other")
    with pytest.raises(berth.ExistsError):
        c.rename("py-other")
    assert c.update(mem_limit="32m") == {"Warnings": []}
    c.reload()
    assert c.attrs["HostConfig"]["Memory"] == 32 << 20
    c.remove(v=True)


def test_list_filters_and_prune(ectx):
    running = ectx.containers.run("busybox", LOOP, detach=True, name="py-up", labels={"role": "a"})
    ectx.containers.run("busybox", ["sh", "-c", "exit 2"], name="py-down", detach=True).wait()
    assert ectx.containers.list() == [running]
    names = [c.name for c in ectx.containers.list(all=True)]
    assert sorted(names) == ["py-down", "py-up"]
    assert [c.name for c in ectx.containers.list(filters={"status": "exited"})] == ["py-down"]
    assert [c.name for c in ectx.containers.list(all=True, filters={"label": "role=a"})] == ["py-up"]
    assert [c.name for c in ectx.containers.list(all=True, filters={"exited": 2})] == ["py-down"]
    assert [c.name for c in ectx.containers.list(all=True, filters={"name": "down"})] == ["py-down"]
    with pytest.raises(berth.InvalidArgumentError, match="colour"):
        ectx.containers.list(filters={"colour": "red"})
    pruned = ectx.containers.prune()
    assert len(pruned["ContainersDeleted"]) == 1 and pruned["SpaceReclaimed"] >= 0
    assert ectx.containers.list(all=True) == [running]


def test_objects_keep_their_context_and_a_closed_one_raises(store):
    ctx = berth.Context(str(store / "root"), runroot=str(store / "run"))
    c = ctx.containers.create("busybox", ["true"], name="py-alive")
    containers = ctx.containers
    del ctx
    assert c.client.containers.get("py-alive") == c  # still usable: c holds its context
    c.client.close()
    for call in (c.start, c.reload, c.remove, lambda: containers.list(all=True), lambda: containers.run("busybox")):
        with pytest.raises(berth.StateError):
            call()
    with berth.Context(str(store / "root"), runroot=str(store / "run")) as again:
        again.containers.get("py-alive").remove()


def test_two_threads_run_containers_at_once(ectx):
    """The GIL is released while a container runs: two containers sleeping a
    second, from two threads, take about as long as one, not the sum (a
    ratio to one run's time, which holds on a loaded machine; unloaded,
    under 1.8 s)."""
    results, errors = [], []

    def run(i):
        try:
            results.append(ectx.containers.run("busybox", ["sh", "-c", f"sleep 1; echo {i}"], remove=True))
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    start = time.monotonic()
    run(0)
    alone = time.monotonic() - start
    threads = [threading.Thread(target=run, args=(i,)) for i in (1, 2)]
    start = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    together = time.monotonic() - start
    assert errors == []
    assert sorted(results) == [b"0\n", b"1\n", b"2\n"]
    # one after the other would take 2 * alone; together about alone
    assert together < 1.5 * alone, f"alone {alone:.2f} s, two at once {together:.2f} s"


def test_volumes(ectx):
    v = ectx.volumes.create("py-data", labels={"tier": "db"})
    assert isinstance(v, berth.Volume)
    assert (v.name, v.id, v.attrs["Labels"]) == ("py-data", "py-data", {"tier": "db"})
    assert ectx.volumes.get("py-data") == v
    anon = ectx.volumes.create()
    assert len(anon.name) == 64
    assert sorted(x.name for x in ectx.volumes.list()) == sorted(["py-data", anon.name])
    assert [x.name for x in ectx.volumes.list(filters={"label": "tier=db"})] == ["py-data"]
    ectx.containers.run("busybox", ["sh", "-c", "echo kept > /data/f"], volumes={"py-data": {"bind": "/data"}},
                        remove=True)
    assert ectx.containers.run("busybox", ["cat", "/data/f"], volumes=["py-data:/data:ro"], remove=True) == b"kept\n"
    user = ectx.containers.create("busybox", ["true"], volumes=["py-data:/data"])
    with pytest.raises(berth.BusyError):
        v.remove()
    user.remove()
    with pytest.raises(berth.NotFoundError):
        ectx.volumes.get("py-nothing")
    pruned = ectx.volumes.prune()
    assert sorted(pruned["VolumesDeleted"]) == sorted(["py-data", anon.name])
    assert ectx.volumes.list() == []
    v = ectx.volumes.create("py-gone")
    v.remove()
    with pytest.raises(berth.NotFoundError):
        v.reload()


@pytest.fixture
def netns():
    name = f"bt-pyobj-{os.getpid()}"
    subprocess.run(["ip", "netns", "add", name], check=True)
    yield name
    subprocess.run(["ip", "netns", "del", name], check=False)


@pytest.mark.skipif(not shutil.which("ip") or not shutil.which("nsenter"), reason="needs ip and nsenter")
def test_networks(netns, store):
    """In a namespace of the test's own: the bridge and its rules go with it."""
    script = textwrap.dedent("""
        import sys, berth
        ctx = berth.Context(sys.argv[1], runroot=sys.argv[2])
        n = ctx.networks.create("py-net", ipam={"Config": [{"Subnet": "10.251.0.0/24"}]}, labels={"a": "b"})
        assert isinstance(n, berth.Network) and n.name == "py-net" and len(n.id) == 64, n
        assert ctx.networks.get("py-net") == n
        assert [x.name for x in ctx.networks.list()] == ["bridge", "py-net"]
        assert [x.name for x in ctx.networks.list(names=["py-net"])] == ["py-net"]
        assert [x.name for x in ctx.networks.list(filters={"label": "a=b"})] == ["py-net"]
        c = ctx.containers.run("busybox", ["sh", "-c", "sleep 30"], detach=True, network="py-net")
        n.reload()
        assert n.containers == [c], n.containers
        try:
            n.remove()
            raise AssertionError("removed with a container attached")
        except berth.StateError:
            pass
        out = ctx.containers.run("busybox", ["cat", "/proc/net/fib_trie"], network="py-net",
                                 remove=True)
        assert b"10.251.0." in out, out
        # connect and disconnect a running container: its second interface
        other = ctx.networks.create("py-net2", ipam={"Config": [{"Subnet": "10.252.0.0/24"}]})
        other.connect(c, aliases=["second"])
        code, out = c.exec_run(["cat", "/proc/net/fib_trie"])
        assert code == 0 and b"10.252.0." in out, out
        other.reload()
        assert other.containers == [c], other.containers
        other.disconnect(c)
        code, out = c.exec_run(["cat", "/proc/net/fib_trie"])
        assert code == 0 and b"10.252.0." not in out, out
        other.remove()
        c.remove(force=True)
        for bad in ({"driver": "overlay"}, {"ipam": {"Config": [{}, {}]}}):
            try:
                ctx.networks.create("py-bad", **bad)
                raise AssertionError(bad)
            except berth.InvalidArgumentError:
                pass
        try:
            ctx.networks.get("py-none")
            raise AssertionError("found")
        except berth.NotFoundError:
            pass
        assert ctx.networks.prune() == {"NetworksDeleted": ["py-net"]}
        print("ok")
    """)
    out = subprocess.run(["nsenter", f"--net=/run/netns/{netns}", sys.executable, "-c", script,
                          str(store / "root"), str(store / "run")],
                         capture_output=True, text=True, timeout=120, env=os.environ)
    assert out.stdout.strip() == "ok", out.stderr
