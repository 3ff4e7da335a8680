#!/usr/bin/python3
"""Test images for tests/integration/storage.sh, made offline.

  storage-fixture.py images LAYOUT BUSYBOX   busybox + layered images
  storage-fixture.py hostile LAYOUT CANARY   one image per hostile layer
  storage-fixture.py many LAYOUT TAG N       an image of N small layers
  storage-fixture.py append LAYOUT SRC DST TAR   DST = SRC + TAR as a layer
  storage-fixture.py compare A B             exit 1 and list differences

Images go into an OCI image layout (berth's content store is one), written
directly: blobs, index.json with org.opencontainers.image.ref.name tags.
"""
import gzip
import hashlib
import io
import json
import os
import stat
import subprocess
import sys
import tarfile

MT_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MT_CONFIG = "application/vnd.oci.image.config.v1+json"
MT_TAR = "application/vnd.oci.image.layer.v1.tar"
MT_GZIP = MT_TAR + "+gzip"
MT_ZSTD = MT_TAR + "+zstd"
MTIME = 1700000000


def sha(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def put_blob(layout, data):
    d = sha(data)
    os.makedirs(os.path.join(layout, "blobs", "sha256"), exist_ok=True)
    with open(os.path.join(layout, "blobs", "sha256", d[7:]), "wb") as f:
        f.write(data)
    return d


def load_index(layout):
    os.makedirs(layout, exist_ok=True)
    p = os.path.join(layout, "oci-layout")
    if not os.path.exists(p):
        with open(p, "w") as f:
            f.write('{"imageLayoutVersion":"1.0.0"}')
    p = os.path.join(layout, "index.json")
    if os.path.exists(p):
        with open(p) as f:
            return json.load(f)
    return {"schemaVersion": 2, "manifests": []}


def save_index(layout, index):
    with open(os.path.join(layout, "index.json"), "w") as f:
        json.dump(index, f)


def arch():
    m = os.uname().machine
    return {"x86_64": "amd64", "aarch64": "arm64"}.get(m, m)


def compress(raw, mt):
    if mt == MT_GZIP:
        return gzip.compress(raw, mtime=0)
    if mt == MT_ZSTD:
        return subprocess.run(["zstd", "-q", "-c"], input=raw, stdout=subprocess.PIPE,
                              check=True).stdout
    return raw


def write_image(layout, tag, layers, diff_ids=None):
    """layers: [(media type, uncompressed tar bytes)]"""
    index = load_index(layout)
    descs, ids = [], []
    for mt, raw in layers:
        blob = raw if mt == MT_TAR else compress(raw, mt)
        descs.append({"mediaType": mt, "digest": put_blob(layout, blob), "size": len(blob)})
        ids.append(sha(raw))
    config = {"architecture": arch(), "os": "linux", "created": "2024-01-01T00:00:00Z",
              "config": {"Cmd": ["/bin/sh"]},
              "rootfs": {"type": "layers", "diff_ids": diff_ids or ids}}
    cdata = json.dumps(config).encode()
    manifest = {"schemaVersion": 2, "mediaType": MT_MANIFEST,
                "config": {"mediaType": MT_CONFIG, "digest": put_blob(layout, cdata),
                           "size": len(cdata)},
                "layers": descs}
    mdata = json.dumps(manifest).encode()
    md = put_blob(layout, mdata)
    index["manifests"] = [m for m in index["manifests"]
                          if m.get("annotations", {}).get("org.opencontainers.image.ref.name") != tag]
    index["manifests"].append({"mediaType": MT_MANIFEST, "digest": md, "size": len(mdata),
                               "annotations": {"org.opencontainers.image.ref.name": tag}})
    save_index(layout, index)
    return manifest, config


class Tar:
    def __init__(self, fmt=tarfile.PAX_FORMAT):
        self.buf = io.BytesIO()
        self.t = tarfile.open(fileobj=self.buf, mode="w", format=fmt)

    def _info(self, name, type_, mode, uid=0, gid=0, xattrs=None):
        ti = tarfile.TarInfo(name)
        ti.type, ti.mode, ti.uid, ti.gid, ti.mtime = type_, mode, uid, gid, MTIME
        if xattrs:
            ti.pax_headers = {"SCHILY.xattr." + k: v for k, v in xattrs.items()}
        return ti

    def dir(self, name, mode=0o755, **kw):
        self.t.addfile(self._info(name, tarfile.DIRTYPE, mode, **kw))

    def file(self, name, data=b"", mode=0o644, **kw):
        if isinstance(data, str):
            data = data.encode()
        ti = self._info(name, tarfile.REGTYPE, mode, **kw)
        ti.size = len(data)
        self.t.addfile(ti, io.BytesIO(data))

    def symlink(self, name, target, **kw):
        ti = self._info(name, tarfile.SYMTYPE, 0o777, **kw)
        ti.linkname = target
        self.t.addfile(ti)

    def hardlink(self, name, target, **kw):
        ti = self._info(name, tarfile.LNKTYPE, 0o644, **kw)
        ti.linkname = target
        self.t.addfile(ti)

    def fifo(self, name, mode=0o600, **kw):
        self.t.addfile(self._info(name, tarfile.FIFOTYPE, mode, **kw))

    def chardev(self, name, major, minor, mode=0o666, **kw):
        ti = self._info(name, tarfile.CHRTYPE, mode, **kw)
        ti.devmajor, ti.devminor = major, minor
        self.t.addfile(ti)

    def bytes(self):
        self.t.close()
        return self.buf.getvalue()


def busybox_layer(busybox):
    t = Tar()
    for d in ("bin", "etc", "tmp", "root", "var", "var/empty"):
        t.dir(d + "/", mode=0o1777 if d == "tmp" else 0o755)
    with open(busybox, "rb") as f:
        t.file("bin/busybox", f.read(), mode=0o755)
    for app in ("sh", "ls", "cat", "echo", "true"):
        t.symlink("bin/" + app, "busybox")
    t.file("etc/passwd", "root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000::/home/user:/bin/sh\n")
    t.file("etc/group", "root:x:0:\nuser:x:1000:\n")
    return t.bytes()


def layered(layout, busybox):
    base = Tar()
    base.dir("./")
    for d in ("bin", "etc", "home", "home/user", "opq", "opq/sub", "gone-dir", "gone-dir/deep",
              "usr", "usr/lib", "dev"):
        if d == "home/user":
            base.dir(d, mode=0o750, uid=1000, gid=1000)
        else:
            base.dir(d)
    with open(busybox, "rb") as f:
        base.file("bin/busybox", f.read(), mode=0o755)
    base.symlink("bin/sh", "busybox")
    base.file("bin/suid", "#!/bin/sh\n", mode=0o4755)
    base.file("bin/sgid", "#!/bin/sh\n", mode=0o2711, gid=50)
    base.dir("tmp", mode=0o1777)
    base.file("home/user/notes", "mine\n", mode=0o600, uid=1000, gid=1000)
    base.file("etc/config", "v1\n")
    base.hardlink("etc/config-link", "etc/config")
    base.file("opq/old", "hidden by the opaque dir\n")
    base.file("opq/sub/older", "also hidden\n")
    base.file("gone", "whited out later\n")
    base.file("gone-dir/deep/file", "x\n")
    base.file("xattrs", "with xattrs\n", xattrs={"user.comment": "hello", "trusted.berth": "t",
                                                 "security.berth": "s"})
    base.fifo("run.fifo", mode=0o620)
    base.chardev("dev/null", 1, 3)
    base.symlink("lib", "usr/lib")
    base.symlink("abs-link", "/etc/config")
    base.symlink("dangling", "nowhere/at/all")
    base.file("usr/lib/libx.so", b"\x7fELF" + bytes(range(256)) * 8, mode=0o755)
    mid = Tar(tarfile.GNU_FORMAT)
    mid.file(".wh.gone", "")
    mid.file(".wh.gone-dir", "")
    mid.dir("opq")
    mid.file("opq/.wh..wh..opq", "")
    mid.file("opq/new", "only this shows\n")
    mid.file("etc/config", "v2\n")
    mid.dir("etc/deep")
    mid.file("etc/deep/longish-" + "n" * 120, "long\n")
    mid.file("home/user/more", "more\n", uid=1000, gid=1000)
    mid.hardlink("home/user/more-link", "home/user/more")
    top = Tar()
    top.file("etc/config", "v3\n", mode=0o640, uid=1000, gid=1000)
    top.file("bin/.wh.sgid", "")
    top.file("new-top", "top\n", xattrs={"user.top": "yes"})
    top.dir("gone-dir", mode=0o700)
    top.file("gone-dir/again", "back\n")
    layers = [base.bytes(), mid.bytes(), top.bytes()]
    write_image(layout, "layered", [(MT_GZIP, layers[0]), (MT_TAR, layers[1]), (MT_GZIP, layers[2])])
    # the same content with a zstd layer (Debian's umoci cannot read zstd:
    # berth's result is compared with umoci's of "layered")
    write_image(layout, "layered-zstd", [(MT_GZIP, layers[0]), (MT_TAR, layers[1]),
                                         (MT_ZSTD, layers[2])])


def cmd_images(layout, busybox):
    write_image(layout, "busybox", [(MT_GZIP, busybox_layer(busybox))])
    layered(layout, busybox)


def blob_image(layout, tag, blob, diff_id):
    """An image of one gzip layer that is `blob` as it is, with `diff_id`."""
    manifest, config = write_image(layout, tag, [(MT_GZIP, b"")], diff_ids=[diff_id])
    manifest["layers"] = [{"mediaType": MT_GZIP, "digest": put_blob(layout, blob), "size": len(blob)}]
    mdata = json.dumps(manifest).encode()
    index = load_index(layout)
    for m in index["manifests"]:
        if m["annotations"]["org.opencontainers.image.ref.name"] == tag:
            m["digest"], m["size"] = put_blob(layout, mdata), len(mdata)
    save_index(layout, index)


def members(layout, tag):
    """A layer of three gzip members, zeros after the last (gzip reads
    these as one stream); its tar is printed for comparison."""
    t = Tar(); t.dir("m"); t.file("m/one", os.urandom(70000)); t.file("m/two", "second member\n")
    t.file("m/three", os.urandom(3000)); raw = t.bytes()
    cut = [0, len(raw) // 3, 2 * len(raw) // 3, len(raw)]
    blob = b"".join(gzip.compress(raw[a:b], mtime=0) for a, b in zip(cut, cut[1:])) + bytes(100)
    blob_image(layout, tag, blob, sha(raw))


def hostile(layout, canary):
    """Each hostile image: tag -> (layers); the test expects each refused."""
    rel = os.path.relpath(canary, "/")
    cases = {}

    t = Tar(); t.file("../evil", "x"); cases["traversal"] = t.bytes()
    t = Tar(); t.dir("a"); t.file("a/../../evil", "x"); cases["traversal-deep"] = t.bytes()
    t = Tar(); t.file("/" + rel + "/evil", "x"); cases["absolute"] = t.bytes()
    t = Tar(); t.symlink("link", canary); t.file("link/evil", "x"); cases["symlink-absolute"] = t.bytes()
    t = Tar(); t.symlink("up", "../../../../../../../" + rel); t.file("up/evil", "x")
    cases["symlink-relative"] = t.bytes()
    t = Tar(); t.dir("d"); t.symlink("d/l", "../.."); t.file("d/l/evil", "x")
    cases["symlink-nested"] = t.bytes()
    t = Tar(); t.hardlink("evil", canary + "/keep"); cases["hardlink-absolute"] = t.bytes()
    t = Tar(); t.hardlink("evil", "../../../../" + rel + "/keep"); cases["hardlink-dotdot"] = t.bytes()
    t = Tar(); t.symlink("l", canary); t.hardlink("evil", "l/keep"); cases["hardlink-symlink"] = t.bytes()
    t = Tar(); t.dir("d"); t.file("d/.wh...", ""); cases["whiteout-dotdot"] = t.bytes()
    t = Tar(); t.file("n" * 300, "x"); cases["huge-component"] = t.bytes()
    t = Tar(); t.file("/".join(["d" * 200] * 22), "x"); cases["huge-path"] = t.bytes()
    for tag, raw in cases.items():
        write_image(layout, tag, [(MT_GZIP, raw)])
    # truncated gzip: the descriptor matches the truncated blob, the diff_id the whole tar
    t = Tar(); t.file("big", os.urandom(200000)); raw = t.bytes()
    good = gzip.compress(raw, mtime=0)
    blob_image(layout, "truncated-gzip", good[:-5000], sha(raw))
    # a bad CRC-32 or ISIZE in the trailer, bytes after the last member:
    # the data and its diff_id are right, only the gzip checks can refuse them
    bad = bytearray(good); bad[-8] ^= 1
    blob_image(layout, "gzip-bad-crc", bytes(bad), sha(raw))
    bad = bytearray(good); bad[-1] ^= 1
    blob_image(layout, "gzip-bad-isize", bytes(bad), sha(raw))
    blob_image(layout, "gzip-trailing-garbage", good + b"garbage\n", sha(raw))
    # bombs: 64 MiB out of a 64 KiB blob, against a declared (diff_id) layer
    # of a few KiB; as a file in the tar, and after the tar's end blocks
    t = Tar(); t.file("small", "x"); small = t.bytes()
    t = Tar(); t.file("zeros", bytes(64 << 20)); big = t.bytes()
    blob_image(layout, "gzip-bomb-file", gzip.compress(big, mtime=0), sha(small))
    blob_image(layout, "gzip-bomb-tail", gzip.compress(small + bytes(64 << 20), mtime=0), sha(small))
    t = Tar(); t.file("fine", "x")
    write_image(layout, "wrong-diffid", [(MT_GZIP, t.bytes())], diff_ids=[sha(b"other")])
    t = Tar(); t.file("fine", "x")
    write_image(layout, "wrong-mediatype", [(MT_ZSTD, b"")], diff_ids=None)
    # a gzip blob under the zstd media type
    index = load_index(layout)
    for m in index["manifests"]:
        if m["annotations"]["org.opencontainers.image.ref.name"] == "wrong-mediatype":
            with open(os.path.join(layout, "blobs", "sha256", m["digest"][7:])) as f:
                man = json.load(f)
            g = gzip.compress(t.bytes(), mtime=0)
            man["layers"] = [{"mediaType": MT_ZSTD, "digest": put_blob(layout, g), "size": len(g)}]
            mdata = json.dumps(man).encode()
            m["digest"], m["size"] = put_blob(layout, mdata), len(mdata)
    save_index(layout, index)
    t = Tar(); t.chardev("dev-mem", 1, 1); write_image(layout, "device", [(MT_GZIP, t.bytes())])
    print(" ".join(list(cases) + ["truncated-gzip", "gzip-bad-crc", "gzip-bad-isize",
                                  "gzip-trailing-garbage", "gzip-bomb-file", "gzip-bomb-tail",
                                  "wrong-diffid", "wrong-mediatype"]))


def cmd_many(layout, tag, n):
    layers = []
    for i in range(int(n)):
        t = Tar()
        t.dir("layers")
        t.file("layers/%03d" % i, "layer %d\n" % i)
        t.file("top", "written by layer %d\n" % i)
        layers.append((MT_GZIP, t.bytes()))
    write_image(layout, tag, layers)


def cmd_append(layout, src, dst, tarpath):
    index = load_index(layout)
    for m in index["manifests"]:
        if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == src:
            with open(os.path.join(layout, "blobs", "sha256", m["digest"][7:])) as f:
                man = json.load(f)
            break
    else:
        sys.exit("no image " + src)
    with open(os.path.join(layout, "blobs", "sha256", man["config"]["digest"][7:])) as f:
        config = json.load(f)
    with open(tarpath, "rb") as f:
        raw = f.read()
    man["layers"].append({"mediaType": MT_TAR, "digest": put_blob(layout, raw), "size": len(raw)})
    config["rootfs"]["diff_ids"].append(sha(raw))
    cdata = json.dumps(config).encode()
    man["config"] = {"mediaType": MT_CONFIG, "digest": put_blob(layout, cdata), "size": len(cdata)}
    mdata = json.dumps(man).encode()
    index["manifests"] = [m for m in index["manifests"]
                          if m.get("annotations", {}).get("org.opencontainers.image.ref.name") != dst]
    index["manifests"].append({"mediaType": MT_MANIFEST, "digest": put_blob(layout, mdata),
                               "size": len(mdata),
                               "annotations": {"org.opencontainers.image.ref.name": dst}})
    save_index(layout, index)


def describe(root):
    """path -> (type, mode, uid, gid, size, sha256, link target, xattrs)"""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames + ([""] if dirpath == root else []):
            p = os.path.join(dirpath, name) if name else dirpath
            rel = os.path.relpath(p, root)
            st = os.lstat(p)
            kind = stat.S_IFMT(st.st_mode)
            digest = link = None
            if stat.S_ISREG(st.st_mode):
                with open(p, "rb") as f:
                    digest = hashlib.sha256(f.read()).hexdigest()
            elif stat.S_ISLNK(st.st_mode):
                link = os.readlink(p)
            try:
                names = os.listxattr(p, follow_symlinks=False)
            except OSError:
                names = []
            xattrs = {}
            for n in names:
                if n.startswith("trusted.overlay.") or n.startswith("user.overlay."):
                    continue
                xattrs[n] = os.getxattr(p, n, follow_symlinks=False)
            size = st.st_size if stat.S_ISREG(st.st_mode) or stat.S_ISLNK(st.st_mode) else None
            rdev = st.st_rdev if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode) else None
            out[rel] = (kind, stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid, size, digest, link,
                        tuple(sorted(xattrs.items())), rdev)
        dirnames[:] = [d for d in dirnames if not os.path.islink(os.path.join(dirpath, d))]
    return out


def cmd_compare(a, b):
    da, db = describe(a), describe(b)
    bad = 0
    fields = ("type", "mode", "uid", "gid", "size", "sha256", "link", "xattrs", "rdev")
    for p in sorted(set(da) | set(db)):
        if p not in da or p not in db:
            print("%s: only in %s" % (p, a if p in da else b))
            bad += 1
            continue
        if da[p] != db[p]:
            diffs = ["%s %r != %r" % (f, x, y) for f, x, y in zip(fields, da[p], db[p]) if x != y]
            # the root directory's own attributes depend on the extractor, not the image
            if p == ".":
                continue
            print("%s: %s" % (p, "; ".join(diffs)))
            bad += 1
    print("%d entries compared, %d differences" % (len(da), bad))
    return 1 if bad else 0


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "images":
        cmd_images(*args)
    elif cmd == "members":
        members(*args)
    elif cmd == "hostile":
        hostile(*args)
    elif cmd == "many":
        cmd_many(*args)
    elif cmd == "append":
        cmd_append(*args)
    elif cmd == "compare":
        sys.exit(cmd_compare(*args))
    else:
        sys.exit("unknown command " + cmd)
