"""ctx.images from Python against a real registry and store: pull (with
progress, cancelling, two threads at once), list, get, tag, remove, prune,
Image's fields, resolve, blobs, commit, login/logout, references, and the
errors of each. Needs docker-registry and skopeo (skipped otherwise)."""
import hashlib
import io
import os
import pathlib
import subprocess
import tarfile
import threading
import time

import pytest

import berth

BUSYBOX = "berth-test/busybox"


def snapshot(root):
    """Every path below root and the hash of every file: the store's state."""
    root = pathlib.Path(root)
    state = {}
    if root.exists():
        for p in sorted(root.rglob("*")):
            rel = str(p.relative_to(root))
            state[rel] = hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() and not p.is_symlink() else "-"
    return state


@pytest.fixture
def pulled(ctx, registry):
    return ctx.images.pull(f"{registry}/{BUSYBOX}")


def test_pull_returns_the_image_with_its_fields(ctx, registry):
    events = []
    img = ctx.images.pull(f"{registry}/berth-test/multi", progress=lambda *a: events.append(a))
    assert isinstance(img, berth.Image)
    assert img.tags == [f"{registry}/berth-test/multi:latest"]
    assert img.id.startswith("sha256:") and len(img.id) == 71
    assert img.short_id == img.id[:17]
    assert img.labels == {"maintainer": "berth", "org.example.test": "multi"}
    a = img.attrs
    assert a["Id"] == img.id and a["RepoTags"] == img.tags and a["RepoDigests"] == [img.digest]
    assert a["Architecture"] == "amd64" and a["Os"] == "linux" and a["Created"] == "2024-01-01T00:00:00Z"
    assert a["Config"]["Entrypoint"] == ["/bin/sh", "-c"] and a["Config"]["Cmd"] == ["echo hi"]
    assert a["Config"]["ExposedPorts"] == {"53/udp": {}, "80/tcp": {}}
    assert len(a["Layers"]) == 4 and a["Layers"][3]["Size"] > 50 * 1024 * 1024
    assert img.layers == a["Layers"]
    assert img.config["rootfs"]["type"] == "layers" and img.manifest["schemaVersion"] == 2
    history = img.history()
    assert len(history) == 5 and set(history[0]) == {"Created", "CreatedBy", "Comment", "Size"}
    assert any("50 MiB" in (h["Comment"] or "") for h in history)
    stages = [e[0] for e in events]
    assert stages[0] == "resolving" and stages[-1] == "done" and "downloading" in stages
    assert events[-1][1] == img.digest
    assert "berth.Image" not in repr(img) and img.short_id in repr(img)


def test_get_list_and_list_tags(ctx, registry, pulled):
    ref = f"{registry}/{BUSYBOX}"
    assert ctx.images.get(ref) == pulled
    assert ctx.images.get(pulled.id) == pulled
    assert ctx.images.get(pulled.id[7:19]) == pulled   # an ID prefix
    assert ctx.images.get(pulled.digest) == pulled
    ctx.images.tag(ref, "berth-test/other", "v1")
    assert ctx.images.list() == [pulled]                # one Image per manifest
    assert ctx.images.list(name="berth-test/other") == [pulled]
    assert ctx.images.list(name="nothing-here") == []
    tags = ctx.images.list_tags()
    assert [t["Reference"] for t in tags] == [f"{ref}:latest", "docker.io/berth-test/other:v1"]
    assert all(t["Digest"] == pulled.digest and t["Size"] > 0 for t in tags)
    assert {pulled: 1}[ctx.images.get(ref)] == 1        # hashable by manifest


def test_tag_untag_reload_remove_prune(ctx, registry, pulled):
    assert pulled.tag("berth-test/again") is True
    pulled.reload()
    assert sorted(pulled.tags) == sorted([f"{registry}/{BUSYBOX}:latest", "berth-test/again:latest"])
    with pytest.raises(berth.BusyError):                # an ID with two tags
        ctx.images.remove(pulled.id)
    ctx.images.untag("berth-test/again")
    with pytest.raises(berth.NotFoundError):
        ctx.images.untag("berth-test/again")
    ctx.images.tag(pulled.id, "berth-test/again")
    ctx.images.remove(pulled.id, force=True)
    assert ctx.images.list() == []
    with pytest.raises(berth.NotFoundError):
        pulled.reload()
    assert ctx.images.prune() == {"BlobsDeleted": 0, "SpaceReclaimed": 0}


def test_prune_frees_what_no_tag_reaches(ctx, registry):
    img = ctx.images.pull(f"{registry}/berth-test/victim", unpack=False)
    hold = ctx.image_hold(img.digest, "berth-test:py")  # keep the blobs past the untag
    ctx.images.untag(f"{registry}/berth-test/victim")
    ctx.image_release(hold, "berth-test:py")
    # the release leaves the manifest for the next collection: prune is it
    r = ctx.images.prune()
    assert set(r) == {"BlobsDeleted", "SpaceReclaimed"}
    assert not list((pathlib.Path(ctx.root) / "content/blobs/sha256").glob(img.digest[7:]))


def test_pull_errors(ctx, registry):
    with pytest.raises(berth.NotFoundError):
        ctx.images.pull(f"{registry}/berth-test/absent")
    with pytest.raises(berth.InvalidArgumentError, match="lowercase"):
        ctx.images.pull("BAD/Name")
    with pytest.raises(berth.NetworkError):
        ctx.images.pull("127.0.0.1:1/x", retries=-1)
    with pytest.raises(TypeError):
        ctx.images.pull(f"{registry}/{BUSYBOX}", progress=5)
    with pytest.raises(berth.NotFoundError):
        ctx.images.get("berth-test/none")
    with pytest.raises(berth.NotFoundError):
        ctx.images.remove("berth-test/none")
    assert ctx.images.list() == []
    # a single-platform manifest: platform only chooses within an index
    assert ctx.images.pull(f"{registry}/{BUSYBOX}", platform="linux/amd64").attrs["Os"] == "linux"


def test_pull_by_tag_argument_and_without_unpack(ctx, registry):
    img = ctx.images.pull(f"{registry}/{BUSYBOX}", "latest", unpack=False)
    assert all(l["UnpackedSize"] is None for l in ctx.storage.layers(img.digest))


class Cancel(Exception):
    pass


def test_progress_that_raises_cancels_and_leaves_the_store(ctx, registry, pulled):
    before = snapshot(ctx.root)
    calls = []

    def progress(stage, digest, done, total):
        calls.append(stage)
        if stage == "downloading":
            raise Cancel("stop")

    with pytest.raises(Cancel, match="stop"):
        ctx.images.pull(f"{registry}/berth-test/multi", progress=progress)
    assert calls.count("downloading") == 1              # no call after it raised
    assert snapshot(ctx.root) == before
    assert ctx.images.list() == [pulled]


def test_progress_returning_true_cancels(ctx, registry):
    with pytest.raises(berth.CanceledError):
        ctx.images.pull(f"{registry}/berth-test/victim", progress=lambda *a: a[0] == "downloading")
    assert ctx.images.list() == []


@pytest.fixture
def slow_registry(registry, tmp_path):
    """tests/integration/lib/registry-proxy.py in front of the registry, each
    blob GET delayed 0.5 s: pulls that mostly wait, as over a slow link."""
    top_srcdir = pathlib.Path(os.environ.get("top_srcdir", pathlib.Path(berth.__file__).resolve().parents[4]))
    portfile = tmp_path / "proxy.port"
    proc = subprocess.Popen(["/usr/bin/python3", str(top_srcdir / "tests/integration/lib/registry-proxy.py"),
                             str(portfile), f"http://{registry}", "slow", "0.5"])
    try:
        for _ in range(100):
            if portfile.exists():
                break
            time.sleep(0.1)
        else:
            pytest.fail("the proxy did not start")
        yield f"127.0.0.1:{portfile.read_text()}"
    finally:
        proc.kill()
        proc.wait(timeout=10)


def test_two_threads_pull_at_once(tmp_path, slow_registry):
    """The GIL is released during a pull: two threads pulling at once take
    about as long as the longer one, not the sum (a ratio, not a time)."""
    def pull(n, name):
        with berth.Context(str(tmp_path / f"r{n}"), runroot=str(tmp_path / f"rr{n}")) as c:
            c.images.pull(f"{slow_registry}/berth-test/{name}")

    def timed(fn):
        t = time.monotonic()
        fn()
        return time.monotonic() - t

    a = timed(lambda: pull(1, "busybox"))
    b = timed(lambda: pull(2, "victim"))

    def both():
        threads = [threading.Thread(target=pull, args=(3, "busybox")),
                   threading.Thread(target=pull, args=(4, "victim"))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    t = timed(both)
    assert (tmp_path / "r3/content/index.json").exists() and (tmp_path / "r4/content/index.json").exists()
    # one after the other would take a + b; together about max(a, b)
    assert t < 0.75 * (a + b), f"alone {a:.2f}s and {b:.2f}s, together {t:.2f}s"
    assert t < 1.4 * max(a, b), f"alone {a:.2f}s and {b:.2f}s, together {t:.2f}s"


def test_a_python_thread_runs_while_a_pull_waits(ctx, registry):
    ticks = []
    done = threading.Event()

    def ticker():
        while not done.is_set():
            ticks.append(time.monotonic())
            time.sleep(0.005)

    t = threading.Thread(target=ticker)
    t.start()
    try:
        ctx.images.pull(f"{registry}/berth-test/multi", progress=lambda *a: time.sleep(0.001))
    finally:
        done.set()
        t.join()
    assert len(ticks) > 10


def test_resolve_blob_open_blob_leftover(ctx, registry, pulled):
    digest, media_type = ctx.images.resolve(f"{registry}/{BUSYBOX}")
    assert digest == pulled.digest and "manifest" in media_type
    raw = ctx.images.blob(pulled.id)
    assert hashlib.sha256(raw).hexdigest() == pulled.id[7:]
    with pytest.raises(berth.InvalidArgumentError):
        ctx.images.blob(pulled.id, max_size=10)
    with pytest.raises(berth.NotFoundError):
        ctx.images.blob("sha256:" + "0" * 64)
    f, size = ctx.images.open_blob(pulled.layers[0]["Digest"])
    with f:
        data = f.read()
    assert len(data) == size == pulled.layers[0]["Size"]
    assert ctx.images.leftover_bytes() == 0


def test_commit_adds_a_layer(ctx, registry, pulled, tmp_path):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        info = tarfile.TarInfo("hello.txt")
        info.size = 3
        tar.addfile(info, io.BytesIO(b"hi\n"))
    layer = tmp_path / "layer.tar"
    layer.write_bytes(buf.getvalue())
    with open(layer, "rb") as f:
        img = ctx.images.commit(f"{registry}/{BUSYBOX}", f, tag="berth-test/committed:v1",
                                config={"Cmd": ["cat", "/hello.txt"]}, comment="py", author="tests")
    assert img.tags == ["berth-test/committed:v1"]
    assert img.attrs["Config"]["Cmd"] == ["cat", "/hello.txt"]
    assert len(img.layers) == len(pulled.layers) + 1
    assert img.history()[0]["Comment"] == "py"
    with pytest.raises(berth.InvalidArgumentError), open(layer, "rb") as f:
        ctx.images.commit(f"{registry}/{BUSYBOX}", f, tag="BAD")


def test_login_logout(ctx, registry, tmp_path):
    auth = str(tmp_path / "auth.json")
    ctx.images.login("berth", "secret", registry, auth_file=auth)   # an open registry accepts any
    assert registry in pathlib.Path(auth).read_text()
    ctx.images.logout(registry, auth_file=auth)
    with pytest.raises(berth.NotFoundError):
        ctx.images.logout(registry, auth_file=auth)


def test_parse_reference():
    r = berth.parse_reference("busybox")
    assert r == ("docker.io", "library/busybox", "docker.io/library/busybox", "busybox", "latest", None,
                 "docker.io/library/busybox:latest", "busybox:latest")
    assert r.familiar == "busybox:latest" and r.tag == "latest" and r.digest is None
    d = "sha256:" + "a" * 64
    r = berth.parse_reference(f"127.0.0.1:5000/team/app@{d}")
    assert r.domain == "127.0.0.1:5000" and r.tag is None and r.digest == d
    with pytest.raises(berth.InvalidArgumentError, match="lowercase"):
        berth.parse_reference("Busybox")
    with pytest.raises(TypeError):
        berth.parse_reference(b"busybox")


def test_objects_keep_their_context_and_a_closed_one_raises(roots, registry):
    ctx = berth.Context(roots[0], runroot=roots[1])
    images = ctx.images
    img = images.pull(f"{registry}/{BUSYBOX}")
    del ctx                                  # the collection and image keep it alive
    assert images.get(img.id) == img
    assert images.context is img.context
    images.context.close()
    assert img.tags                          # what was read stays readable
    for call in (images.list, lambda: images.get(img.id), img.reload, images.prune,
                 lambda: images.pull(f"{registry}/{BUSYBOX}"), lambda: img.tag("x")):
        with pytest.raises(berth.StateError):
            call()
    with pytest.raises(berth.StateError):
        images.context.images
    with pytest.raises(TypeError):
        berth.Image()
