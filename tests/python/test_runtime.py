"""berth.Runtime and berth.Process against the real runtime: containers from
the busybox bundle tests/python/run.sh makes as root ($BERTH_TEST_BUNDLE;
their cgroups below /$BERTH_TEST_CGROUP, removed by run.sh at exit). Without
it (not root, no static busybox) only the tests that need no container run."""
import json
import os
import signal
import threading
import time

import pytest

import berth

BUNDLE = os.environ.get("BERTH_TEST_BUNDLE")
CGROUP = os.environ.get("BERTH_TEST_CGROUP")
needs_bundle = pytest.mark.skipif(not BUNDLE, reason="needs root and $BERTH_TEST_BUNDLE (tests/python/run.sh)")


def config(cid, *args):
    """The bundle's config running args, in a cgroup of the test's."""
    with open(os.path.join(BUNDLE, "config.json")) as f:
        c = json.load(f)
    c["process"]["args"] = list(args)
    c["linux"]["cgroupsPath"] = "/%s/%s" % (CGROUP, cid)
    return c


@pytest.fixture
def rt(ctx):
    """The context's runtime; every container a test made is deleted after it."""
    runtime = ctx.runtime
    yield runtime
    for cid in runtime.list():
        runtime.delete(cid, force=True)


def run(rt, cid, *args, timeout=20):
    """Creates and starts cid with stdout and stderr into a pipe; returns
    (exit status, output)."""
    r, w = os.pipe()
    try:
        with rt.create(cid, BUNDLE, config=config(cid, *args), stdio=(None, w, w)) as p:
            os.close(w)
            w = -1
            rt.start(cid)
            status = p.wait(timeout=timeout)
        out = b""
        while chunk := os.read(r, 65536):
            out += chunk
        return status, out
    finally:
        os.close(r)
        if w >= 0:
            os.close(w)


def test_runtime_type_and_root(ctx, roots):
    rt = ctx.runtime
    assert isinstance(rt, berth.Runtime)
    assert rt.root == roots[1] + "/runtime"
    assert rt.context is ctx
    other = berth.Runtime(ctx, root=roots[1] + "/other")
    assert other.root == roots[1] + "/other"
    assert "runtime" in repr(rt)
    with pytest.raises(berth.InvalidArgumentError):
        berth.Runtime(ctx, root="relative")
    with pytest.raises(TypeError):
        berth.Process()


def test_runtime_on_closed_context_raises(roots):
    ctx = berth.Context(roots[0], runroot=roots[1])
    rt = ctx.runtime
    ctx.close()
    with pytest.raises(berth.StateError):
        rt.list()
    with pytest.raises(berth.StateError):
        ctx.runtime


def test_runtime_errors(ctx):
    rt = ctx.runtime
    assert rt.list() == []
    with pytest.raises(berth.NotFoundError):
        rt.state("nosuch")
    with pytest.raises(berth.NotFoundError):
        rt.delete("nosuch")
    with pytest.raises(berth.InvalidArgumentError):
        rt.start("../bad")
    with pytest.raises(ValueError):
        rt.create("c", "/nonexistent", stdio=(None, None))


def test_usage_and_prune_of_an_empty_root(ctx):
    rt = ctx.runtime
    assert rt.usage() == {"containers": 0, "bytes": 0, "leftovers": 0, "leftover_bytes": 0}
    assert rt.prune() == (0, 0)


def test_spec_default_and_features():
    spec = berth.runtime_spec_default()
    assert spec["root"]["path"] == "rootfs"
    assert "uidMappings" in berth.runtime_spec_default(rootless=True)["linux"]
    assert "ociVersionMin" in berth.runtime_features()


@needs_bundle
def test_output_through_a_pipe_and_exit_codes(rt):
    status, out = run(rt, "py-echo", "/bin/sh", "-c", "echo hello from berth; echo to stderr >&2")
    assert out == b"hello from berth\nto stderr\n"
    assert status == (0, 0, False)
    assert (status.code, status.signal, status.oom_killed) == (0, 0, False)
    assert rt.exit_status("py-echo").code == 0
    assert rt.state("py-echo")["status"] == "stopped"
    rt.delete("py-echo")
    assert rt.list() == []

    status, out = run(rt, "py-three", "/bin/sh", "-c", "echo three; exit 3")
    assert (status.code, out) == (3, b"three\n")
    assert isinstance(status, berth.ExitStatus)
    assert rt.exit_status("py-three").code == 3
    rt.delete("py-three")
    with pytest.raises(berth.NotFoundError):
        rt.exit_status("py-three")


@needs_bundle
def test_wait_with_a_timeout_raises_timeout_error(rt):
    p = rt.create("py-sleep", BUNDLE, config=json.dumps(config("py-sleep", "/bin/sleep", "100")),
                  stdio=(None, None, None))
    assert p.pid > 0 and p.pidfd >= 0 and p.pty is None and p.id == "py-sleep"
    assert rt.state("py-sleep")["status"] == "created"
    rt.start("py-sleep")
    assert rt.state("py-sleep")["status"] == "running"
    assert p.pid in rt.ps("py-sleep")
    t0 = time.monotonic()
    with pytest.raises(berth.TimeoutError) as e:
        p.wait(timeout=0.3)
    assert isinstance(e.value, TimeoutError) and e.value.code_name == "ETIMEOUT"
    assert 0.25 <= time.monotonic() - t0 < 5
    with pytest.raises(berth.TimeoutError):
        p.wait(timeout=0)
    with pytest.raises(berth.StateError):
        rt.exit_status("py-sleep")  # running, nobody has waited
    p.signal(signal.SIGKILL)
    status = p.wait(timeout=10)
    assert (status.code, status.signal) == (137, signal.SIGKILL)
    assert p.wait() == status  # waiting again returns the same
    with pytest.raises(berth.StateError):
        p.signal(signal.SIGTERM)
    p.close()
    p.close()
    assert p.closed
    with pytest.raises(berth.StateError):
        p.wait()
    rt.delete("py-sleep")


@needs_bundle
def test_wait_releases_the_gil(rt):
    p = rt.create("py-gil", BUNDLE, config=config("py-gil", "/bin/sleep", "1"), stdio=(None, None, None))
    rt.start("py-gil")
    ticks = []
    stop = threading.Event()

    def ticker():
        while not stop.is_set():
            ticks.append(1)
            time.sleep(0.01)
    t = threading.Thread(target=ticker)
    t.start()
    try:
        assert p.wait(timeout=20).code == 0
    finally:
        stop.set()
        t.join()
    assert len(ticks) > 20  # the other thread ran while the wait blocked
    rt.delete("py-gil")


@needs_bundle
def test_exec_with_fds(rt):
    p = rt.create("py-exec", BUNDLE, config=config("py-exec", "/bin/sleep", "100"), stdio=(None, None, None))
    rt.start("py-exec")
    r, w = os.pipe()
    try:
        with open(os.devnull, "rb") as null:
            e = rt.exec("py-exec", {"args": ["/bin/sh", "-c", "echo via fd 3 >&3; exit 5"], "cwd": "/",
                                    "env": ["PATH=/bin"]}, stdio=(null, None, None), fds=[w])
        os.close(w)
        w = -1
        assert e.wait(timeout=20).code == 5
        assert os.read(r, 100) == b"via fd 3\n"
    finally:
        os.close(r)
        if w >= 0:
            os.close(w)
    rt.kill("py-exec", signal.SIGKILL)
    assert p.wait(timeout=10).signal == signal.SIGKILL
    rt.delete("py-exec")


@needs_bundle
def test_close_context_while_a_container_lives(roots):
    ctx = berth.Context(roots[0], runroot=roots[1])
    rt = ctx.runtime
    p = rt.create("py-close", BUNDLE, config=config("py-close", "/bin/sleep", "100"), stdio=(None, None, None))
    ctx.close()
    with pytest.raises(berth.StateError):
        p.wait(timeout=0)
    with berth.Context(roots[0], runroot=roots[1]) as again:
        again.runtime.delete("py-close", force=True)
    p.close()
