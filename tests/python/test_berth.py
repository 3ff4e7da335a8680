"""Tests of the berth Python binding against the real libberth (no mocks)."""
import gc
import os
import pathlib
import pickle
import sys
import threading
import weakref

import pytest

import berth

INFO_KEYS = ["version", "root", "runroot", "kernel", "namespaces", "overlayfs",
             "cgroup.mode", "seccomp", "features", "inflate.gzip"]

ERROR_CLASSES = {
    "ERROR": ("Error", -1),
    "EINVAL": ("InvalidArgumentError", -2),
    "ENOTFOUND": ("NotFoundError", -3),
    "EEXISTS": ("ExistsError", -4),
    "ENOMEM": ("OutOfMemoryError", -5),
    "EOS": ("SystemCallError", -6),
    "EPERM": ("PermissionDeniedError", -7),
    "EBUSY": ("BusyError", -8),
    "EUNSUPPORTED": ("UnsupportedError", -9),
    "ECANCELED": ("CanceledError", -10),
    "EAUTH": ("AuthError", -11),
    "ENETWORK": ("NetworkError", -12),
    "EINTEGRITY": ("IntegrityError", -13),
    "ESTATE": ("StateError", -14),
    "ESCAPE": ("PathEscapeError", -15),
    "ETIMEOUT": ("TimeoutError", -16),
}


class Recorder:
    """A log callback that keeps what it receives."""

    def __init__(self):
        self.lines = []

    def __call__(self, level, module, message):
        self.lines.append((level, module, message))


# ---- versions and features ------------------------------------------------

def test_version_matches_headers(header_version):
    expected = "%d.%d.%d" % header_version
    assert berth.version() == expected
    assert berth.__version__ == expected
    assert berth.version_info == header_version
    assert all(isinstance(n, int) for n in berth.version_info)


def test_has_feature():
    assert berth.has_feature("digest") is True  # libcrypto3 is installed here
    assert berth.has_feature("nonexistent") is False
    assert berth.has_feature("") is False
    assert berth.has_feature("digest\0") is False  # no name holds a NUL
    with pytest.raises(TypeError):
        berth.has_feature(b"digest")
    with pytest.raises(TypeError):
        berth.has_feature()


def test_features_lists_every_known_name():
    names = berth.features()
    assert isinstance(names, list)
    assert "seccomp" in names and "digest" in names
    assert all(isinstance(n, str) for n in names)
    assert len(set(names)) == len(names)
    names.append("mutated")
    assert "mutated" not in berth.features()  # a fresh list each call


# ---- contexts ---------------------------------------------------------------

def test_context_roots(roots):
    root, runroot = roots
    ctx = berth.Context(root, runroot=runroot)
    assert ctx.root == root
    assert ctx.runroot == runroot
    assert ctx.log_level == "warn"
    assert ctx.closed is False
    assert repr(ctx) == f"<berth.Context root={root!r} runroot={runroot!r}>"
    ctx.close()
    # nothing is created on disk until a module needs it
    assert not os.path.exists(root) and not os.path.exists(runroot)


def test_context_keywords_and_pathlike(tmp_path):
    ctx = berth.Context(root=tmp_path / "r", runroot=os.fsencode(tmp_path / "x"))
    assert ctx.root == str(tmp_path / "r")
    assert ctx.runroot == str(tmp_path / "x")
    with pytest.raises(TypeError):
        berth.Context(str(tmp_path), str(tmp_path))  # runroot is keyword-only
    with pytest.raises(TypeError):
        berth.Context(root=42)


def test_trailing_slashes_are_stripped(roots):
    root, runroot = roots
    ctx = berth.Context(root + "/", runroot=runroot + "///")
    assert ctx.root == root
    assert ctx.runroot == runroot
    assert berth.Context("/", runroot="//").root == "/"


def test_default_roots_are_absolute():
    with berth.Context() as ctx:
        assert os.path.isabs(ctx.root) and os.path.isabs(ctx.runroot)


def test_non_utf8_path_round_trips(tmp_path):
    raw = os.fsencode(tmp_path) + b"/st\xffore"
    with berth.Context(raw, runroot=tmp_path) as ctx:
        assert os.fsencode(ctx.root) == raw
        assert ctx.info()["root"] == ctx.root


def test_relative_root_raises_invalid_argument(tmp_path):
    with pytest.raises(berth.InvalidArgumentError) as info:
        berth.Context("relative/store", runroot=str(tmp_path))
    exc = info.value
    assert isinstance(exc, ValueError)
    assert isinstance(exc, berth.Error)
    assert "absolute" in exc.message
    assert "relative/store" in exc.message
    assert str(exc) == exc.message
    assert exc.code == -2
    assert exc.code_name == "EINVAL"
    assert exc.errno == 0


def test_relative_runroot_raises(tmp_path):
    with pytest.raises(berth.InvalidArgumentError, match="absolute"):
        berth.Context(str(tmp_path), runroot="run")
    with pytest.raises(ValueError):
        berth.Context("", runroot=str(tmp_path))


def test_error_message_with_undecodable_bytes(tmp_path):
    with pytest.raises(berth.InvalidArgumentError) as info:
        berth.Context(b"rel\xff", runroot=str(tmp_path))
    assert "rel\\xff" in str(info.value)  # backslashreplace, printable


def test_nul_in_path_is_a_value_error(tmp_path):
    with pytest.raises(ValueError):
        berth.Context(str(tmp_path) + "\0x")


@pytest.mark.parametrize("name,expected", [
    ("error", "error"), ("warn", "warn"), ("warning", "warn"),
    ("info", "info"), ("debug", "debug"), ("DEBUG", "debug"), (None, "warn"),
])
def test_log_levels(roots, name, expected):
    with berth.Context(roots[0], runroot=roots[1], log_level=name) as ctx:
        assert ctx.log_level == expected


def test_bad_log_level_raises(roots):
    with pytest.raises(berth.InvalidArgumentError) as info:
        berth.Context(roots[0], runroot=roots[1], log_level="verbose")
    assert "verbose" in str(info.value)
    assert info.value.code_name == "EINVAL"
    with pytest.raises(TypeError):
        berth.Context(roots[0], runroot=roots[1], log_level=3)


def test_info(roots):
    root, runroot = roots
    with berth.Context(root, runroot=runroot) as ctx:
        info = ctx.info()
    assert isinstance(info, dict)
    for key in INFO_KEYS:
        assert key in info, key
    assert list(info)[:3] == ["version", "root", "runroot"]  # the library's order
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in info.items())
    assert info["version"] == berth.version()
    assert info["root"] == root
    assert info["runroot"] == runroot
    assert info["overlayfs"] in ("yes", "no")
    assert info["seccomp"] in ("yes", "no")
    assert info["cgroup.mode"] in ("v1", "v2", "hybrid", "none")
    available = {f for f in berth.features() if berth.has_feature(f)}
    assert set(info["features"].split()) == available
    assert info["inflate.gzip"] == ("isa-l" if berth.has_feature("isal") else "zlib")


def test_info_from_threads(ctx):
    # info() releases the GIL; several threads may use one context at once
    results, errors = [], []

    def work():
        try:
            for _ in range(10):
                results.append(ctx.info()["root"])
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert results == [ctx.root] * 40


# ---- logging ----------------------------------------------------------------

def test_log_receives_debug_line(roots):
    root, runroot = roots
    rec = Recorder()
    with berth.Context(root, runroot=runroot, log=rec, log_level="debug"):
        pass
    assert ("debug", "common", f"context: root {root}, runroot {runroot}") in rec.lines
    assert all(isinstance(part, str) for line in rec.lines for part in line)


@pytest.mark.parametrize("level", ["warn", "info", "error"])
def test_log_quiet_above_debug(roots, level):
    rec = Recorder()
    with berth.Context(roots[0], runroot=roots[1], log=rec, log_level=level) as ctx:
        ctx.info()
    assert rec.lines == []


def test_log_must_be_callable(roots):
    with pytest.raises(TypeError, match="callable"):
        berth.Context(roots[0], runroot=roots[1], log="print")


def test_raising_log_callback_is_reported_not_raised(roots, monkeypatch):
    seen = []
    monkeypatch.setattr(sys, "unraisablehook", seen.append)

    def bad_log(level, module, message):
        raise RuntimeError("log callback failed")

    with berth.Context(roots[0], runroot=roots[1], log=bad_log, log_level="debug") as ctx:
        assert ctx.root == roots[0]
        assert ctx.info()["root"] == roots[0]
    assert len(seen) == 1
    assert seen[0].exc_type is RuntimeError
    assert str(seen[0].exc_value) == "log callback failed"
    assert seen[0].object is bad_log


def test_log_callback_with_wrong_signature_is_reported(roots, monkeypatch):
    seen = []
    monkeypatch.setattr(sys, "unraisablehook", seen.append)
    with berth.Context(roots[0], runroot=roots[1], log=lambda: None, log_level="debug"):
        pass
    assert [u.exc_type for u in seen] == [TypeError]


# ---- closing --------------------------------------------------------------

def test_close_is_idempotent_and_use_after_close_raises(roots):
    ctx = berth.Context(roots[0], runroot=roots[1])
    ctx.close()
    ctx.close()
    assert ctx.closed is True
    assert repr(ctx) == "<berth.Context (closed)>"
    for use in (lambda: ctx.root, lambda: ctx.runroot, lambda: ctx.log_level,
                ctx.info, ctx.__enter__):
        with pytest.raises(berth.StateError) as info:
            use()
        assert "closed" in str(info.value)
        assert info.value.code == -14
        assert info.value.code_name == "ESTATE"
        assert isinstance(info.value, berth.Error)


def test_with_statement_closes(roots):
    with berth.Context(roots[0], runroot=roots[1]) as ctx:
        assert isinstance(ctx, berth.Context)
        assert not ctx.closed
    assert ctx.closed
    with pytest.raises(berth.StateError):
        ctx.info()


def test_with_statement_closes_on_exception(roots):
    with pytest.raises(KeyError):
        with berth.Context(roots[0], runroot=roots[1]) as ctx:
            raise KeyError("boom")
    assert ctx.closed


def test_close_drops_log_callable(roots):
    rec = Recorder()
    ref = weakref.ref(rec)
    ctx = berth.Context(roots[0], runroot=roots[1], log=rec)
    del rec
    assert ref() is not None  # the context keeps it alive
    ctx.close()
    assert ref() is None


# ---- garbage collection ---------------------------------------------------

def test_dealloc_without_close(roots):
    ctx = berth.Context(roots[0], runroot=roots[1])
    ref = weakref.ref(ctx)
    del ctx
    assert ref() is None


def test_cycle_through_log_callback_is_collected(roots):
    rec = Recorder()

    def make():
        holder = {}

        def log(level, module, message):
            rec.lines.append(holder.get("ctx"))  # closure -> dict -> ctx

        ctx = berth.Context(roots[0], runroot=roots[1], log=log, log_level="debug")
        holder["ctx"] = ctx
        return weakref.ref(ctx), weakref.ref(log)

    gc.collect()
    ctx_ref, log_ref = make()
    assert ctx_ref() is not None  # only the cycle keeps it
    gc.collect()
    assert ctx_ref() is None
    assert log_ref() is None


def test_subclass(roots):
    class MyContext(berth.Context):
        pass

    ctx = MyContext(roots[0], runroot=roots[1])
    ctx.self_ref = ctx  # a cycle through the instance dict
    ref = weakref.ref(ctx)
    assert ctx.root == roots[0]
    del ctx
    gc.collect()
    assert ref() is None


# ---- errors -----------------------------------------------------------------

def test_errors_dict():
    assert set(berth.errors) == set(ERROR_CLASSES)
    assert berth.errors["ERROR"] is berth.Error
    assert issubclass(berth.Error, Exception)
    for name, (cls_name, code) in ERROR_CLASSES.items():
        cls = berth.errors[name]
        assert cls is getattr(berth, cls_name)
        assert cls.__name__ == cls_name
        assert cls.__module__ == "berth"
        assert issubclass(cls, berth.Error)
        assert cls.code == code
        assert cls.code_name == name
        assert cls.__doc__


@pytest.mark.parametrize("cls,builtin", [
    (berth.InvalidArgumentError, ValueError),
    (berth.NotFoundError, LookupError),
    (berth.OutOfMemoryError, MemoryError),
    (berth.SystemCallError, OSError),
])
def test_errors_also_derive_from_builtins(cls, builtin):
    assert issubclass(cls, builtin)
    exc = cls("what failed")
    assert str(exc) == "what failed"
    assert isinstance(exc, berth.Error)


def test_error_pickles(tmp_path):
    with pytest.raises(berth.InvalidArgumentError) as info:
        berth.Context("rel", runroot=str(tmp_path))
    copy = pickle.loads(pickle.dumps(info.value))
    assert type(copy) is berth.InvalidArgumentError
    assert (copy.code, copy.code_name, copy.errno, copy.message, str(copy)) == (
        -2, "EINVAL", 0, info.value.message, str(info.value))


def test_module_docstrings():
    for obj in (berth, berth.Context, berth.Context.info, berth.Context.close,
                berth.version, berth.has_feature, berth.features, berth.Error):
        assert obj.__doc__, obj
    assert pathlib.Path(berth.__file__).name.startswith("berth")


def _oci_image(root, tag):
    """A minimal OCI layout under root/content with one image tagged tag
    (config and manifest, no layers); returns the manifest digest."""
    import hashlib
    import json
    content = pathlib.Path(root) / "content"
    blobs = content / "blobs" / "sha256"
    blobs.mkdir(parents=True)

    def put(data):
        hexd = hashlib.sha256(data).hexdigest()
        (blobs / hexd).write_bytes(data)
        return "sha256:" + hexd, len(data)

    config = json.dumps({"architecture": "amd64", "os": "linux",
                         "rootfs": {"type": "layers", "diff_ids": []}}).encode()
    cdigest, csize = put(config)
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": cdigest, "size": csize},
        "layers": []}).encode()
    mdigest, msize = put(manifest)
    (content / "oci-layout").write_text('{"imageLayoutVersion":"1.0.0"}')
    (content / "index.json").write_text(json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
                       "digest": mdigest, "size": msize,
                       "annotations": {"org.opencontainers.image.ref.name": tag}}]}))
    return mdigest


def test_image_holds(roots, ctx):
    assert ctx.image_holds() == []
    digest = _oci_image(roots[0], "docker.io/library/held:latest")
    assert ctx.image_hold("held", "container:py1") == digest
    assert ctx.image_hold(name="held", holder="container:py1") == digest  # twice: no error
    ctx.image_hold(digest, "container:py2")
    assert sorted(ctx.image_holds("held")) == [(digest, "container:py1"), (digest, "container:py2")]
    assert len(ctx.image_holds()) == 2
    ctx.image_release(digest, "container:py1")
    assert ctx.image_holds(name="held") == [(digest, "container:py2")]
    with pytest.raises(berth.NotFoundError):
        ctx.image_release(digest, "container:py1")
    with pytest.raises(berth.NotFoundError):
        ctx.image_hold("nothing-like-it", "container:py1")
    with pytest.raises(berth.InvalidArgumentError):
        ctx.image_hold("held", "has space")
    ctx.image_release(holder="container:py2", digest=digest)
    assert ctx.image_holds() == []
    for method in (berth.Context.image_hold, berth.Context.image_release, berth.Context.image_holds):
        assert method.__doc__
