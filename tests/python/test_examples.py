"""examples/python/orchestrator.py and examples/lua/orchestrator.lua run
against a real registry and the engine: two workers, restarted as they
exit, their logs printed, nothing left behind. Needs root (skipped otherwise)."""
import os
import pathlib
import re
import shutil
import subprocess

import pytest

import berth

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root (containers)")


@pytest.fixture
def env(builddir):
    top_srcdir = pathlib.Path(os.environ.get("top_srcdir", builddir.parent))
    e = dict(os.environ)
    e["BERTH_MONITOR"] = str(builddir / "lib" / "container" / "berth-monitor")
    e["BERTH_DATADIR"] = str(top_srcdir / "data")
    e["LUA_CPATH"] = f"{builddir}/bindings/lua/.libs/?.so;;"
    e["LD_LIBRARY_PATH"] = f"{builddir}/lib/.libs"
    return top_srcdir, e


def check_output(out, root, runroot):
    assert re.search(r"^pull: .*berth-test/busybox:latest is sha256:[0-9a-f]{10}$", out, re.M), out
    for w in ("worker-1", "worker-2"):
        assert re.search(rf"^\[{w}\] started on [0-9a-f]{{12}}$", out, re.M), out
    # 3 asked; both workers may end in the round that reaches it
    assert len(re.findall(r"^\[worker-\d\] exited with 0; starting it again$", out, re.M)) in (3, 4), out
    assert re.search(r"^done: [34] restarts$", out, re.M), out
    with berth.Context(root, runroot=runroot) as ctx:
        assert ctx.container_ids() == []


def test_python_orchestrator(registry, env, tmp_path):
    top_srcdir, e = env
    root, runroot = str(tmp_path / "root"), str(tmp_path / "run")
    r = subprocess.run(["/usr/bin/python3", str(top_srcdir / "examples/python/orchestrator.py"), "--root", root,
                        "--runroot", runroot, "--image", f"{registry}/berth-test/busybox", "--workers", "2",
                        "--restarts", "3"], env=e, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    check_output(r.stdout, root, runroot)


def test_lua_orchestrator(registry, env, tmp_path):
    lua = os.environ.get("LUA_BIN") or shutil.which("lua5.4")
    if not lua or lua == "no" or os.environ.get("ENABLE_LUA"):
        pytest.skip("no Lua 5.4 or Lua binding")
    top_srcdir, e = env
    root, runroot = str(tmp_path / "root"), str(tmp_path / "run")
    r = subprocess.run([lua, str(top_srcdir / "examples/lua/orchestrator.lua"), root, runroot,
                        f"{registry}/berth-test/busybox", "2", "3"], env=e, capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    check_output(r.stdout, root, runroot)
