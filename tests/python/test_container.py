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


@pytest.fixture(scope="module")
def store(tmp_path_factory, builddir):
    """A store root holding docker.io/library/busybox, made offline."""
    os.environ["BERTH_MONITOR"] = str(builddir / "lib" / "container" / "berth-monitor")
    top_srcdir = pathlib.Path(os.environ.get("top_srcdir", builddir.parent))
    os.environ["BERTH_DATADIR"] = str(top_srcdir / "data")
    base = tmp_path_factory.mktemp("engine")
    subprocess.run(["/usr/bin/python3", str(top_srcdir / "tests/integration/lib/registry-mkimage.py"),
                    str(base / "layout")], check=True, stdout=subprocess.DEVNULL)
    (base / "root" / "content").mkdir(parents=True)
    subprocess.run(["skopeo", "copy", "-q", f"oci:{base}/layout:busybox",
                    f"oci:{base}/root/content:docker.io/library/busybox:latest"], check=True)
    yield base
    # snapshot mounts of containers a failed test left
    with open("/proc/self/mounts") as f:
        mounts = [line.split()[1] for line in f if f" {base}/" in line]
    for m in sorted(mounts, reverse=True):
        subprocess.run(["umount", "-l", m], check=False)


@pytest.fixture
def ectx(store):
    ctx = berth.Context(str(store / "root"), runroot=str(store / "run"))
    yield ctx
    for cid in ctx.containers():
        ctx.container_remove(cid, force=True)
    ctx.close()


def test_run_returns_exit_code_and_output(ectx):
    code, out = ectx.run("busybox", ["sh", "-c", "echo hello; echo oops >&2; exit 3"])
    assert code == 3
    assert out == b"hello\noops\n"
    assert ectx.containers() == []


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
    assert [ectx.container_inspect(c)["Name"] for c in ectx.containers()] == ["/py-taken"]
