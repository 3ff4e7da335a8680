"""The engine from Python: containers from an image, on the real kernel.

Needs root (namespaces, cgroups, overlay mounts) and skopeo (to copy the
busybox image made offline into the store); skipped otherwise. Every
container a test makes is removed, even when the test fails.
"""
import os
import pathlib
import shutil
import signal
import subprocess
import threading

import pytest

import berth

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("skopeo") is None,
    reason="needs root and skopeo")


def test_run_returns_exit_code_and_output(ectx):
    code, out = ectx.run("busybox", ["sh", "-c", "echo hello; echo oops >&2; exit 3"])
    assert code == 3
    assert out == b"hello\noops\n"
    assert ectx.container_ids() == []


def test_options_reach_the_process(ectx):
    code, out = ectx.run("busybox", ["sh", "-c", 'echo "$(id) $(pwd) $FOO $(hostname)"'],
                         user="1000:1000", working_dir="/w", environment={"FOO": "bar"},
                         hostname="py1", cap_drop=["ALL"])
    assert (code, out) == (0, b"uid=1000 gid=1000 /w bar py1\n")


def test_life_cycle_detached(ectx):
    cid = ectx.container_create("busybox", ["sh", "-c", "while :; do sleep 1; done"], name="py-d",
                                labels={"a": "b"})
    assert len(cid) == 64
    assert ectx.container_inspect("py-d")["State"]["Status"] == "created"
    with pytest.raises(berth.StateError):
        ectx.container_wait("py-d")
    ectx.container_start("py-d")
    info = ectx.container_inspect(cid[:10])
    assert info["State"]["Running"] is True
    assert info["Config"]["Labels"] == {"a": "b"}
    with pytest.raises(berth.TimeoutError):
        ectx.container_wait("py-d", timeout=0.2)
    with pytest.raises(berth.StateError):
        ectx.container_remove("py-d")
    ectx.container_kill("py-d", signal.SIGKILL)
    assert ectx.container_wait("py-d") == {"StatusCode": 137, "OOMKilled": False}
    with pytest.raises(berth.StateError):
        ectx.container_stop("py-d")
    ectx.container_remove("py-d")
    with pytest.raises(berth.NotFoundError):
        ectx.container_inspect("py-d")


def test_pipes_from_two_threads(ectx):
    results = {}

    def one(word, code):
        r, w = os.pipe()
        cid = ectx.container_create("busybox", ["sh", "-c", f"echo {word}; exit {code}"])
        ectx.container_start(cid, stdio=(None, w, w))
        os.close(w)
        with os.fdopen(r, "rb") as f:
            out = f.read()
        results[word] = (ectx.container_wait(cid)["StatusCode"], out)
        ectx.container_remove(cid)

    threads = [threading.Thread(target=one, args=(w, c)) for w, c in (("alpha", 0), ("beta", 5))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == {"alpha": (0, b"alpha\n"), "beta": (5, b"beta\n")}


def test_bad_input(ectx):
    with pytest.raises(berth.NotFoundError, match="Unable to find image 'no-such'"):
        ectx.run("no-such", ["true"])
    with pytest.raises(berth.NotFoundError, match="unable to find user nobody"):
        ectx.run("busybox", ["true"], user="nobody")
    with pytest.raises(TypeError, match="no shell parsing"):
        ectx.run("busybox", "echo hi")
    with pytest.raises(TypeError, match="unexpected keyword argument 'bogus'"):
        ectx.run("busybox", ["true"], bogus=1)
    ectx.container_create("busybox", ["true"], name="py-taken")
    with pytest.raises(berth.ExistsError, match="already in use"):
        ectx.container_create("busybox", ["true"], name="py-taken")
    with pytest.raises(berth.NotFoundError):
        ectx.run("busybox", ["no-such-command"])
    assert [ectx.container_inspect(c)["Name"] for c in ectx.container_ids()] == ["/py-taken"]


# ---- operations on existing containers ---------------------------------

def _running(ectx, name, *opts, **kw):
    ectx.container_create("busybox", ["sh", "-c", "while :; do sleep 1; done"], name=name, **kw)
    ectx.container_start(name)
    return name


def _exec(ectx, name, cmd, **kw):
    """exec with output on a pipe: (code, bytes)."""
    r, w = os.pipe()
    try:
        code = ectx.container_exec(name, cmd, stdio=(None, w, w), **kw)
    finally:
        os.close(w)
    with os.fdopen(r, "rb") as f:
        return code, f.read()


def test_exec_pause_restart_rename(ectx):
    _running(ectx, "py-ops")
    assert _exec(ectx, "py-ops", ["sh", "-c", "echo $A $(id -u) $(pwd); exit 4"],
                 environment=["A=b"], user="1000", workdir="/tmp") == (4, b"b 1000 /tmp\n")
    seen = {}

    def copy_terminal(pid, pty):
        seen["pid"], out = pid, b""
        while True:
            try:
                chunk = os.read(pty, 4096)
            except OSError:  # EIO once the process has closed its side
                break
            if not chunk:
                break
            out += chunk
        seen["out"] = out
    assert ectx.container_exec("py-ops", ["sh", "-c", "echo on-tty; exit 5"], tty=True,
                               started=copy_terminal) == 5
    assert seen["pid"] > 0 and seen["out"] == b"on-tty\r\n"

    def boom(pid, pty):
        raise ValueError("from started")
    with pytest.raises(ValueError, match="from started"):
        ectx.container_exec("py-ops", ["true"], stdio=(None, None, None), started=boom)
    ectx.container_pause("py-ops")
    assert ectx.container_inspect("py-ops")["State"]["Status"] == "paused"
    with pytest.raises(berth.StateError):
        ectx.container_exec("py-ops", ["true"], stdio=(None, None, None))
    ectx.container_unpause("py-ops")
    with pytest.raises(berth.StateError):
        ectx.container_unpause("py-ops")
    pid = ectx.container_inspect("py-ops")["State"]["Pid"]
    ectx.container_restart("py-ops", timeout=0)
    assert ectx.container_inspect("py-ops")["State"]["Pid"] != pid
    ectx.container_create("busybox", ["true"], name="py-other")
    with pytest.raises(berth.ExistsError):
        ectx.container_rename("py-ops", "py-other")
    ectx.container_rename("py-ops", "py-renamed")
    assert ectx.container_inspect("py-renamed")["Name"] == "/py-renamed"
    ectx.container_kill("py-renamed")
    ectx.container_wait("py-renamed")
    with pytest.raises(berth.StateError):
        ectx.container_exec("py-renamed", ["true"], stdio=(None, None, None))


def test_top_stats_update_resize(ectx):
    _running(ectx, "py-res")
    top = ectx.container_top("py-res")
    assert top["Titles"][1] == "PID" and top["Processes"]
    ectx.container_update("py-res", pids_limit=50, mem_limit=64 << 20)
    stats = ectx.container_stats("py-res")
    assert stats["pids_limit"] == 50 and stats["memory_limit"] == 64 << 20
    assert stats["io_read_bytes"] >= 0 and stats["io_write_bytes"] >= 0
    assert stats["pids_current"] >= 1
    with pytest.raises(berth.InvalidArgumentError):
        ectx.container_update("py-res", mem_limit=64 << 20, memswap_limit=1 << 20)
    with pytest.raises(berth.StateError):  # no terminal
        ectx.container_resize("py-res", height=24, width=80)
    ectx.container_create("busybox", ["sh", "-c", "sleep 1; stty size"], name="py-tty", tty=True)
    ectx.container_start("py-tty")
    ectx.container_resize("py-tty", 33, 101)
    ectx.container_wait("py-tty")
    ectx.container_kill("py-res")
    ectx.container_wait("py-res")
    with pytest.raises(berth.StateError):
        ectx.container_top("py-res")
    with pytest.raises(berth.StateError):
        ectx.container_stats("py-res")


def test_copies_diff_export_commit(ectx, tmp_path):
    import io
    import tarfile
    _running(ectx, "py-cp")
    src = tmp_path / "in.tar"
    with tarfile.open(src, "w") as t:
        data = b"hello\n"
        info = tarfile.TarInfo("hello.txt")
        info.size = len(data)
        t.addfile(info, io.BytesIO(data))
    with open(src, "rb") as f:
        ectx.container_copy_to("py-cp", "/tmp", f)
    assert ectx.container_path_is_dir("py-cp", "/tmp") is True
    assert ectx.container_path_is_dir("py-cp", "/tmp/hello.txt") is False
    out = tmp_path / "out.tar"
    with open(out, "wb") as f:
        ectx.container_copy_from("py-cp", "/tmp/hello.txt", f.fileno(), arcname="x.txt")
    with tarfile.open(out) as t:
        assert t.extractfile("x.txt").read() == b"hello\n"
    bad = tmp_path / "bad.tar"
    with tarfile.open(bad, "w") as t:
        info = tarfile.TarInfo("../../escape")
        t.addfile(info, io.BytesIO(b""))
    with open(bad, "rb") as f, pytest.raises(berth.PathEscapeError):
        ectx.container_copy_to("py-cp", "/tmp", f)
    with open(out, "wb") as f, pytest.raises(berth.NotFoundError):
        ectx.container_copy_from("py-cp", "/no/such", f)
    assert {"Path": "/tmp/hello.txt", "Kind": 1} in ectx.container_diff("py-cp")
    exp = tmp_path / "exp.tar"
    with open(exp, "wb") as f:
        ectx.container_export("py-cp", f)
    with tarfile.open(exp) as t:
        names = t.getnames()
    assert any(n.lstrip("./") == "tmp/hello.txt" for n in names)
    image = ectx.container_commit("py-cp", "py-committed:1", message="py", author="me",
                                  changes=['CMD ["cat", "/tmp/hello.txt"]'])
    assert image.startswith("sha256:")
    assert ectx.run("py-committed:1") == (0, b"hello\n")
    with pytest.raises(berth.InvalidArgumentError):
        ectx.container_commit("py-cp", "py-c2", changes=["BOGUS x"])
    with pytest.raises(berth.NotFoundError):
        ectx.container_diff("no-such")


def test_attach_events_prune_boot(ectx):
    ectx.container_create("busybox", ["sh", "-c", "sleep 1; echo late; exit 2"], name="py-at")
    ectx.container_start("py-at")
    r, w = os.pipe()
    try:
        assert ectx.container_attach("py-at", stdout=w, stderr=w) == {"StatusCode": 2, "OOMKilled": False}
    finally:
        os.close(w)
    with os.fdopen(r, "rb") as f:
        assert f.read() == b"late\n"
    ectx.container_wait("py-at")  # attach may return before the monitor records the end
    with pytest.raises(berth.StateError):
        ectx.container_attach("py-at", stdout=1)
    seen = []
    ectx.container_events(lambda e: seen.append(e["Action"]) and False)
    assert "create" in seen and "start" in seen
    stop_at_first = []
    ectx.container_events(lambda e: stop_at_first.append(e) or True)
    assert len(stop_at_first) == 1

    def boom(event):
        raise ValueError("from the callback")
    with pytest.raises(ValueError, match="from the callback"):
        ectx.container_events(boom)
    # follow releases the GIL: another thread's create arrives as an event
    import time
    since = time.time_ns()
    maker = threading.Timer(0.2, lambda: ectx.container_create("busybox", ["true"], name="py-late"))
    maker.start()
    followed = []
    ectx.container_events(lambda e: followed.append(e) or e["Action"] == "create", since=since,
                          until=since + 20 * 10**9, follow=True)
    maker.join()
    assert followed[-1]["Actor"]["Attributes"]["name"] == "py-late"
    ectx.container_remove("py-late")
    assert isinstance(ectx.containers_boot(), list)
    _running(ectx, "py-keep")
    cid = ectx.container_inspect("py-at")["Id"]
    pruned = ectx.containers_prune()
    assert pruned["ContainersDeleted"] == [cid] and pruned["SpaceReclaimed"] >= 0
    assert [ectx.container_inspect(c)["Name"] for c in ectx.container_ids()] == ["/py-keep"]


def test_new_create_options(ectx):
    code, out = ectx.run(
        "busybox", ["sh", "-c", "ulimit -n; test -c /dev/mynull && echo dev; "
                    "grep Seccomp: /proc/self/status; df -k /dev/shm | tail -1; cat /proc/1/comm"],
        init=True, ulimits=["nofile=512:1024"], devices=["/dev/null:/dev/mynull"],
        seccomp="unconfined", shm_size=8 << 20)
    lines = out.decode().split("\n")
    assert code == 0, out
    assert lines[0] == "512" and lines[1] == "dev" and lines[2].split() == ["Seccomp:", "0"]
    assert lines[3].split()[1] == "8192"
    assert lines[4] != "sh"
    ectx.container_create("busybox", ["true"], name="py-opts", stdin_open=True,
                          restart_policy={"Name": "on-failure", "MaximumRetryCount": 3},
                          log_config={"Type": "json-file", "Config": {"max-size": "10m"}},
                          healthcheck={"test": ["CMD-SHELL", "true"], "interval": 2 * 10**9,
                                       "timeout": 10**9, "retries": 2})
    info = ectx.container_inspect("py-opts")
    assert info["Config"]["OpenStdin"] is True
    assert info["HostConfig"]["RestartPolicy"] == {"Name": "on-failure", "MaximumRetryCount": 3}
    assert info["HostConfig"]["LogConfig"]["Config"] == {"max-size": "10m"}
    assert info["Config"]["Healthcheck"] == {"Test": ["CMD-SHELL", "true"], "Interval": 2 * 10**9,
                                             "Timeout": 10**9, "Retries": 2}
    with pytest.raises(berth.InvalidArgumentError):
        ectx.run("busybox", ["true"], ulimits=["bogus=1"])
