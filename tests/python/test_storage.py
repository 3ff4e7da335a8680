"""ctx.storage and ctx.cgroups from Python, on the real kernel: unpack with
progress, image and snapshot mounts as context managers, diffs, exports,
copies in and out (and an escaping tar refused), usage, prune, layers; a
cgroup made, used and removed. Needs root, docker-registry and skopeo."""
import io
import os
import subprocess
import tarfile
import uuid

import pytest

import berth

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root (mounts, cgroups)")


def mounted(path):
    with open("/proc/self/mountinfo") as f:
        return any(line.split()[4] == str(path) for line in f)


@pytest.fixture
def image(ctx, registry):
    img = ctx.images.pull(f"{registry}/berth-test/busybox", unpack=False)
    yield img.digest
    for line in open("/proc/self/mountinfo"):
        m = line.split()[4]
        if m.startswith(ctx.root + "/") or m.startswith(ctx.runroot + "/"):
            subprocess.run(["umount", "-l", m], check=False)


def names(tar_bytes):
    with tarfile.open(fileobj=io.BytesIO(tar_bytes)) as t:
        return t.getnames()


def test_unpack_with_progress_layers_release(ctx, image):
    assert all(layer["UnpackedSize"] is None for layer in ctx.storage.layers(image))
    seen = []
    ctx.storage.unpack(image, progress=lambda layer, done, total: seen.append((layer, done, total)))
    assert seen and seen[-1][0].startswith("sha256:")
    layers = ctx.storage.layers(image)
    assert layers[0]["DiffID"].startswith("sha256:") and layers[0]["ChainID"].startswith("sha256:")
    assert layers[0]["UnpackedSize"] > 0
    ctx.storage.release(image)
    with pytest.raises(berth.NotFoundError):
        ctx.storage.release(image)
    with pytest.raises(berth.NotFoundError):
        ctx.storage.layers("berth-test/none")


class Stop(Exception):
    pass


def test_unpack_progress_that_raises_cancels(ctx, image):
    def progress(layer, done, total):
        raise Stop(layer)

    with pytest.raises(Stop):
        ctx.storage.unpack(image, progress=progress)
    assert ctx.storage.layers(image)[0]["UnpackedSize"] is None


def test_image_mount_is_a_context_manager(ctx, image):
    m = ctx.storage.mount(image)
    with m as path:
        assert os.path.isfile(os.path.join(path, "bin/busybox")) and mounted(path)
        assert m.mounted and m.path == path and m.name == image
        with pytest.raises(berth.BusyError):            # the mount holds the image
            ctx.images.remove(image)
    assert not mounted(path) and not m.mounted
    m.unmount()                                         # twice is fine
    with pytest.raises(berth.NotFoundError):
        ctx.storage.unmount(image)
    again = ctx.storage.mount(image)
    ctx.storage.unmount(image)
    assert not mounted(again.path)


def test_snapshots(ctx, image, tmp_path):
    sid = f"bt-py-{uuid.uuid4().hex[:8]}"
    ctx.storage.snapshot_create(sid, image, driver="overlay")
    with pytest.raises(berth.ExistsError):
        ctx.storage.snapshot_create(sid, image)
    with pytest.raises(ValueError, match="driver"):
        ctx.storage.snapshot_create("bt-py-x", image, driver="zfs")
    with pytest.raises(berth.InvalidArgumentError):
        ctx.storage.snapshot_create("../x", image)
    assert ctx.storage.snapshot_driver(sid) == "overlay"
    with ctx.storage.snapshot_mount(sid) as root:
        with open(os.path.join(root, "new-file"), "w") as f:
            f.write("hello\n")
        os.unlink(os.path.join(root, "bin/sh"))
    assert not mounted(root)
    with open(tmp_path / "diff.tar", "wb") as f:
        ctx.storage.snapshot_diff(sid, f)
    diff = names((tmp_path / "diff.tar").read_bytes())
    assert "new-file" in diff and "bin/.wh.sh" in diff
    with open(tmp_path / "export.tar", "wb") as f:
        ctx.storage.snapshot_export(sid, f.fileno())
    export = names((tmp_path / "export.tar").read_bytes())
    assert "bin/busybox" in export and "new-file" in export and "bin/sh" not in export
    ctx.storage.snapshot_unmount(sid)                   # not mounted: fine
    ctx.storage.snapshot_remove(sid)
    for call in (ctx.storage.snapshot_remove, ctx.storage.snapshot_driver, ctx.storage.snapshot_mount):
        with pytest.raises(berth.NotFoundError):
            call(sid)


def test_copy_in_and_out(ctx, tmp_path):
    root = tmp_path / "rootfs"
    (root / "etc").mkdir(parents=True)
    (root / "etc/motd").write_text("hi\n")
    with open(tmp_path / "out.tar", "wb") as f:
        ctx.storage.copy_out(str(root), "/etc/motd", f, arcname="greeting")
    with tarfile.open(tmp_path / "out.tar") as t:
        assert t.getnames() == ["greeting"] and t.extractfile("greeting").read() == b"hi\n"
    with open(tmp_path / "out.tar", "rb") as f:
        ctx.storage.copy_in(str(root), "/", f)
    assert (root / "greeting").read_text() == "hi\n"
    with pytest.raises(berth.NotFoundError), open(tmp_path / "x.tar", "wb") as f:
        ctx.storage.copy_out(str(root), "/missing", f)
    bad = io.BytesIO()
    with tarfile.open(fileobj=bad, mode="w") as t:
        info = tarfile.TarInfo("../escaped")
        info.size = 1
        t.addfile(info, io.BytesIO(b"x"))
    (tmp_path / "bad.tar").write_bytes(bad.getvalue())
    with pytest.raises(berth.PathEscapeError), open(tmp_path / "bad.tar", "rb") as f:
        ctx.storage.copy_in(str(root / "etc"), "/", f)
    assert not (root / "escaped").exists()
    with pytest.raises(TypeError):
        ctx.storage.copy_in(None, "/", 0)


def test_usage_and_prune(ctx, image):
    ctx.storage.unpack(image)
    usage = ctx.storage.usage()
    assert set(usage) == {"images", "layers", "containers"}
    assert usage["layers"]["Items"] == 1 and usage["layers"]["Bytes"] > 0
    assert usage["images"]["Bytes"] > 0 and set(usage["images"]) == {"Items", "Bytes", "Reclaimable"}
    assert ctx.storage.prune() == 0                     # the image holds its layer
    ctx.images.remove(image)
    assert isinstance(ctx.storage.prune(), int)
    assert ctx.storage.usage()["layers"]["Items"] == 0


def test_closed_context_raises(roots):
    ctx = berth.Context(roots[0], runroot=roots[1])
    storage, cgroups = ctx.storage, ctx.cgroups
    ctx.close()
    for call in (storage.usage, storage.prune, lambda: storage.mount("x"), cgroups.detect,
                 lambda: cgroups.create("bt-py-closed")):
        with pytest.raises(berth.StateError):
            call()


def test_cgroups(ctx):
    mode, controllers = ctx.cgroups.detect()
    assert mode in ("v1", "v2", "hybrid") and "pids" in controllers
    assert ctx.cgroups.info()["mode"] == mode
    cid = f"bt-py-{uuid.uuid4().hex[:8]}"
    path = f"/berth-test/{cid}"
    cg = ctx.cgroups.create(cid, path)
    proc = subprocess.Popen(["sleep", "60"])
    try:
        assert cg.path == path and path in repr(cg)
        with pytest.raises(berth.ExistsError):
            ctx.cgroups.create(cid, path)
        cg.attach(proc.pid)
        assert cg.pids() == [proc.pid]
        cg.set_resources({"pids": {"limit": 10}})
        stats = cg.stats()
        assert stats["pids_limit"] == 10 and stats["pids_current"] == 1
        with pytest.raises(berth.InvalidArgumentError):
            cg.set_resources('{"pids": {"limit": "ten"}}')
        cg.freeze()
        cg.thaw()
        with ctx.cgroups.open(cid, path) as same:
            assert same.pids() == [proc.pid]
        with pytest.raises(berth.StateError):
            same.pids()                                 # closed by the with block
        cg.kill()
        assert proc.wait(timeout=10) == -9
        cg.remove()
    finally:
        proc.kill()
        proc.wait()
        try:
            ctx.cgroups.open(cid, path).remove()
        except berth.NotFoundError:
            pass
    with pytest.raises(berth.NotFoundError):
        ctx.cgroups.open(cid, path)
    with pytest.raises(berth.PathEscapeError):
        ctx.cgroups.create("bt-py-esc", "/berth-test/../../x")
