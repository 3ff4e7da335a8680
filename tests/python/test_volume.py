"""Volumes from Python: berth/volume.h one to one, and the engine's
volumes keyword. The store-only tests need nothing; the mounts and the
containers need root (and skopeo for the image), skipped otherwise.
"""
import os
import pathlib
import shutil
import subprocess
import threading

import pytest

import berth

root_only = pytest.mark.skipif(os.geteuid() != 0, reason="needs root (chown, mount)")


@pytest.fixture
def vctx(tmp_path):
    ctx = berth.Context(str(tmp_path / "root"), runroot=str(tmp_path / "run"))
    yield ctx
    ctx.close()


def test_create_inspect_list_remove(vctx):
    assert vctx.volume_create("data", labels={"tier": "db"}) == "data"
    assert vctx.volume_create("data") == "data"  # exists: returned as it is
    anon = vctx.volume_create()
    assert len(anon) == 64
    info = vctx.volume_inspect("data", usage=True)
    assert info["Name"] == "data" and info["Driver"] == "local" and info["Scope"] == "local"
    assert info["Labels"] == {"tier": "db"}
    assert info["Mountpoint"].endswith("/volumes/data/_data")
    assert info["UsageData"]["RefCount"] == 0
    assert sorted(vctx.volume_names()) == sorted(["data", anon])
    assert vctx.volume_names(filters={"label": ["tier=db"]}) == ["data"]
    assert vctx.volume_names(filters=["name=dat"]) == ["data"]
    with pytest.raises(berth.InvalidArgumentError):
        vctx.volume_names(filters={"colour": "red"})
    vctx.volume_remove(anon)
    with pytest.raises(berth.NotFoundError, match="no such volume"):
        vctx.volume_inspect(anon)


@pytest.mark.parametrize("bad", ["../x", "a/b", "x", ".h", ""])
def test_bad_names_refused(vctx, bad):
    with pytest.raises(berth.InvalidArgumentError, match="invalid characters"):
        vctx.volume_create(bad)
    assert vctx.volume_names() == []


def test_holds_refuse_removal_and_prune_leaves_held(vctx):
    vctx.volume_create("kept")
    vctx.volume_create("gone")
    path = pathlib.Path(vctx.volume_inspect("gone")["Mountpoint"])
    (path / "blob").write_bytes(b"x" * 100000)
    vctx.volume_hold("kept", "test:me")
    assert vctx.volume_holders("kept") == ["test:me"]
    with pytest.raises(berth.BusyError, match=r"volume is in use - \[test:me\]"):
        vctx.volume_remove("kept")
    assert vctx.volume_names(filters={"dangling": True}) == ["gone"]
    pruned = vctx.volumes_prune()
    assert pruned["VolumesDeleted"] == ["gone"]
    assert pruned["SpaceReclaimed"] >= 100000
    vctx.volume_release("kept", "test:me")
    vctx.volume_remove("kept")
    assert vctx.volume_names() == []


def test_threads_create_one_volume(vctx):
    errors = []

    def make():
        try:
            vctx.volume_create("same")
        except berth.Error as e:
            errors.append(e)

    threads = [threading.Thread(target=make) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert vctx.volume_names() == ["same"]


@root_only
def test_populate_keeps_owners_and_symlinks(vctx, tmp_path):
    rootfs = tmp_path / "rootfs"
    (rootfs / "srv" / "app").mkdir(parents=True)
    f = rootfs / "srv" / "app" / "f"
    f.write_text("cfg\n")
    os.chown(f, 1234, 5678)
    f.chmod(0o640)
    os.symlink("/etc/passwd", rootfs / "srv" / "app" / "link")
    vctx.volume_create("pop")
    vctx.volume_populate("pop", rootfs, "/srv/app")
    data = pathlib.Path(vctx.volume_inspect("pop")["Mountpoint"])
    st = (data / "f").lstat()
    assert (st.st_uid, st.st_gid, st.st_mode & 0o7777) == (1234, 5678, 0o640)
    assert os.readlink(data / "link") == "/etc/passwd"


@root_only
def test_tmpfs_volume_mounted_by_first_user_only(tmp_path):
    # a mount namespace of its own, so the mount never reaches the host's
    script = f"""
import berth, os
ctx = berth.Context({str(tmp_path / 'root')!r}, runroot={str(tmp_path / 'run')!r})
ctx.volume_create("tv", driver_opts={{"type": "tmpfs", "device": "tmpfs", "o": "size=1m"}})
p = ctx.volume_mount("tv", "a")
ctx.volume_mount("tv", "b")
ctx.volume_unmount("tv", "a")
assert os.path.ismount(p)
ctx.volume_unmount("tv", "b")
assert not os.path.ismount(p)
print("ok")
"""
    out = subprocess.run(["unshare", "-m", "--propagation", "private", "/usr/bin/python3", "-c", script],
                         capture_output=True, text=True, env=os.environ)
    assert out.stdout.strip() == "ok", out.stderr


# the store fixture (busybox, made offline) is conftest.py's
engine_only = pytest.mark.skipif(os.geteuid() != 0 or shutil.which("skopeo") is None,
                                 reason="needs root and skopeo")


@engine_only
def test_containers_share_a_volume(store):
    ctx = berth.Context(str(store / "root"), runroot=str(store / "run"))
    try:
        code, _ = ctx.run("busybox", ["sh", "-c", "echo kept > /d/f"], volumes=["shared:/d"])
        assert code == 0
        cid = ctx.container_create("busybox", ["cat", "/d/f"], volumes={"shared": {"bind": "/d", "mode": "ro"}},
                                   tmpfs={"/t": "size=64k"})
        mounts = {m["Destination"]: m for m in ctx.container_inspect(cid)["Mounts"]}
        assert mounts["/d"]["Name"] == "shared" and mounts["/d"]["RW"] is False
        assert mounts["/t"]["Type"] == "tmpfs"
        with pytest.raises(berth.BusyError, match=cid):
            ctx.volume_remove("shared")
        code, out = ctx.run("busybox", ["sh", "-c", "cat /d/f; echo x > /d/g"], volumes_from=[cid])
        assert code != 0 and out.startswith(b"kept\n") and b"Read-only file system" in out
        ctx.container_remove(cid, v=True)
        assert "shared" in ctx.volume_names()  # a named volume stays
        ctx.volume_remove("shared")
    finally:
        for c in ctx.container_ids():
            ctx.container_remove(c, force=True)
        ctx.close()


@engine_only
def test_holds_of_gone_containers_are_swept(store):
    # what a create killed after its holds leaves: a hold of a container
    # that does not exist; the next create drops it
    ctx = berth.Context(str(store / "root"), runroot=str(store / "run"))
    try:
        ctx.volume_create("orphaned")
        ctx.volume_hold("orphaned", "container:" + "ab" * 32)
        ctx.volume_hold("orphaned", "someone:else")
        cid = ctx.container_create("busybox", ["true"])
        assert ctx.volume_holders("orphaned") == ["someone:else"]
        ctx.container_remove(cid)
        ctx.volume_release("orphaned", "someone:else")
        ctx.volume_remove("orphaned")
    finally:
        ctx.close()
