"""Shared fixtures for the tests of the berth Python binding.

run.sh puts $top_builddir/bindings/python/.libs first on PYTHONPATH; these
tests must exercise that build, never an installed copy.
"""
import os
import pathlib
import re
import subprocess

import pytest

import berth


def _builddir():
    if os.environ.get("top_builddir"):
        return pathlib.Path(os.environ["top_builddir"])
    # run by hand: berth.so lives in <builddir>/bindings/python/.libs
    return pathlib.Path(berth.__file__).resolve().parents[3]


def pytest_report_header(config):
    return f"berth module: {berth.__file__} (libberth {berth.version()})"


@pytest.fixture(scope="session")
def builddir():
    path = _builddir()
    if os.environ.get("top_builddir"):
        module = pathlib.Path(berth.__file__).resolve()
        assert module.is_relative_to(path.resolve()), (
            f"imported {module}, not the module built in {path}")
    return path


@pytest.fixture(scope="session")
def header_version(builddir):
    """(major, minor, patch) from the generated berth/version.h."""
    text = (builddir / "include" / "berth" / "version.h").read_text()
    parts = []
    for name in ("MAJOR", "MINOR", "PATCH"):
        m = re.search(rf"^#define BERTH_VERSION_{name} (\d+)$", text, re.M)
        assert m, f"BERTH_VERSION_{name} not in version.h"
        parts.append(int(m.group(1)))
    return tuple(parts)


@pytest.fixture
def roots(tmp_path):
    """A store root and run root (str) in this test's temporary directory."""
    return str(tmp_path / "root"), str(tmp_path / "run")


@pytest.fixture
def ctx(roots):
    context = berth.Context(roots[0], runroot=roots[1])
    yield context
    context.close()



@pytest.fixture(scope="session")
def registry(tmp_path_factory, builddir):
    """Debian's docker-registry on 127.0.0.1 (plain HTTP), seeded by skopeo
    with the images tests/integration/lib/registry-mkimage.py builds offline:
    berth-test/busybox, multi (four layers, 50 MiB), multi2 (the same
    again), victim (one small layer). Yields "127.0.0.1:PORT"; stopped by PID."""
    import shutil
    import signal
    import subprocess
    for tool in ("docker-registry", "skopeo"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed (scripts/install-deps)")
    top_srcdir = pathlib.Path(os.environ.get("top_srcdir", _builddir().parent))
    out = subprocess.run(["/usr/bin/python3", str(top_srcdir / "tests/integration/lib/registry-serve.py"),
                          str(tmp_path_factory.mktemp("registry")), "busybox:busybox", "multi:multi",
                          "multi:multi2", "victim:victim"], check=True, capture_output=True, text=True)
    addr, pid = out.stdout.split()
    try:
        yield addr
    finally:
        os.kill(int(pid), signal.SIGKILL)


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
    """A context on the store; the containers and volumes a test left are removed."""
    ctx = berth.Context(str(store / "root"), runroot=str(store / "run"))
    yield ctx
    for cid in ctx.container_ids():
        ctx.container_remove(cid, force=True)
    for name in ctx.volume_names():
        ctx.volume_remove(name, force=True)
    ctx.close()
