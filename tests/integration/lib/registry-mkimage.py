#!/usr/bin/python3
"""Builds the registry tests' images offline as one OCI image layout.

    registry-mkimage.py LAYOUT           busybox, multi, index (two platforms)
    registry-mkimage.py LAYOUT big DIR.. one layer from directories (bench)

Tags in LAYOUT/index.json (org.opencontainers.image.ref.name):
  busybox  busybox-static as /bin/busybox plus applet symlinks, one layer
  multi    four layers: a base, whiteouts (.wh. files and an opaque dir),
           hardlinks, symlinks and user.* xattrs, and 50 MiB of seeded
           random data (it does not compress)
  index    an OCI index of linux/amd64 and linux/arm64 manifests
  victim   one small layer of its own, for corrupting
  many     busybox plus a layer of 4000 small files (modes, owners, xattrs)
           and one that replaces, whites out and hides some of them: slow
           enough to unpack and remove that a kill lands half way
  some     the same with 1000 files (many/00..09), for tests that repeat it
Everything is deterministic: the same run gives the same digests.
"""
import gzip
import hashlib
import io
import json
import os
import random
import sys
import tarfile

MTIME = 1704067200  # 2024-01-01T00:00:00Z
CREATED = "2024-01-01T00:00:00Z"


def put_blob(layout, data):
    digest = hashlib.sha256(data).hexdigest()
    path = os.path.join(layout, "blobs", "sha256", digest)
    if not os.path.exists(path):
        with open(path, "wb") as f:
            f.write(data)
    return {"digest": "sha256:" + digest, "size": len(data)}


class Layer:
    def __init__(self):
        self.buf = io.BytesIO()
        self.tar = tarfile.open(fileobj=self.buf, mode="w", format=tarfile.PAX_FORMAT)

    def _info(self, name, kind, mode=0o644, xattrs=None):
        ti = tarfile.TarInfo(name)
        ti.type = kind
        ti.mode = mode
        ti.mtime = MTIME
        ti.uid = ti.gid = 0
        ti.uname = ti.gname = "root"
        if xattrs:
            ti.pax_headers = {"SCHILY.xattr." + k: v for k, v in xattrs.items()}
        return ti

    def dir(self, name, mode=0o755):
        self.tar.addfile(self._info(name, tarfile.DIRTYPE, mode))

    def file(self, name, data, mode=0o644, xattrs=None):
        ti = self._info(name, tarfile.REGTYPE, mode, xattrs)
        ti.size = len(data)
        self.tar.addfile(ti, io.BytesIO(data))

    def symlink(self, name, target):
        ti = self._info(name, tarfile.SYMTYPE, 0o777)
        ti.linkname = target
        self.tar.addfile(ti)

    def hardlink(self, name, target):
        ti = self._info(name, tarfile.LNKTYPE)
        ti.linkname = target
        self.tar.addfile(ti)

    def finish(self, layout, level=6):
        self.tar.close()
        raw = self.buf.getvalue()
        gz = gzip.compress(raw, compresslevel=level, mtime=0)
        desc = put_blob(layout, gz)
        desc["mediaType"] = "application/vnd.oci.image.layer.v1.tar+gzip"
        return desc, "sha256:" + hashlib.sha256(raw).hexdigest()


def image(layout, layers, arch="amd64", config_extra=None, history=None):
    config = {
        "created": CREATED,
        "architecture": arch,
        "os": "linux",
        "config": {"Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
                   "Cmd": ["sh"]},
        "rootfs": {"type": "layers", "diff_ids": [d for _, d in layers]},
        "history": history or [{"created": CREATED, "created_by": "registry-mkimage.py layer %d" % i}
                               for i in range(len(layers))],
    }
    if arch == "arm64":
        config["variant"] = "v8"
    if config_extra:
        config["config"].update(config_extra)
    cdesc = put_blob(layout, json.dumps(config, sort_keys=True).encode())
    cdesc["mediaType"] = "application/vnd.oci.image.config.v1+json"
    manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": cdesc, "layers": [d for d, _ in layers]}
    mdesc = put_blob(layout, json.dumps(manifest, sort_keys=True).encode())
    mdesc["mediaType"] = manifest["mediaType"]
    return mdesc


def busybox_layer(layout):
    layer = Layer()
    for d in ("bin", "etc", "tmp"):
        layer.dir(d)
    with open("/bin/busybox", "rb") as f:
        layer.file("bin/busybox", f.read(), 0o755)
    for applet in ("sh", "ls", "cat", "echo", "true"):
        layer.symlink("bin/" + applet, "busybox")
    layer.file("etc/hostname", b"berth-test\n")
    return layer.finish(layout)


def multi(layout):
    base = busybox_layer(layout)
    l2 = Layer()
    l2.dir("etc")
    l2.dir("data", 0o755)
    l2.file("data/original.txt", b"hardlinked content\n")
    l2.hardlink("data/hardlink.txt", "data/original.txt")
    l2.symlink("data/relative-link", "original.txt")
    l2.symlink("data/absolute-link", "/etc/hostname")
    l2.file("data/xattr.txt", b"has user xattrs\n", xattrs={"user.berth.test": "yes", "user.other": "1"})
    l2.file("etc/removed-later", b"gone in layer 3\n")
    l2.dir("opaque")
    l2.file("opaque/old", b"hidden by the opaque whiteout\n")
    l3 = Layer()
    l3.dir("etc")
    l3.file("etc/.wh.removed-later", b"")
    l3.dir("opaque")
    l3.file("opaque/.wh..wh..opq", b"")
    l3.file("opaque/new", b"after the opaque whiteout\n")
    l4 = Layer()
    l4.dir("big")
    l4.file("big/random.bin", random.Random(5).randbytes(50 << 20))
    layers = [base, l2.finish(layout), l3.finish(layout), l4.finish(layout, level=1)]
    history = [{"created": CREATED, "created_by": "/bin/sh -c #(nop) ADD busybox /"},
               {"created": CREATED, "created_by": "/bin/sh -c #(nop)  LABEL org.example.test=multi",
                "empty_layer": True},
               {"created": CREATED, "created_by": "/bin/sh -c make links and xattrs"},
               {"created": CREATED, "created_by": "/bin/sh -c rm etc/removed-later; opaque"},
               {"created": CREATED, "created_by": "/bin/sh -c head -c 50M /dev/urandom > big/random.bin",
                "comment": "50 MiB"}]
    return image(layout, layers, history=history,
                 config_extra={"Entrypoint": ["/bin/sh", "-c"], "Cmd": ["echo hi"],
                               "ExposedPorts": {"80/tcp": {}, "53/udp": {}},
                               "Labels": {"org.example.test": "multi", "maintainer": "berth"}})


def many(layout, dirs=40):
    files = Layer()
    rnd = random.Random(11)
    for d in range(dirs):
        files.dir("many/%02d" % d, 0o755 if d % 7 else 0o700)
        for i in range(100):
            ti = files._info("many/%02d/%03d" % (d, i), tarfile.REGTYPE, 0o644 if i % 9 else 0o600,
                             {"user.n": str(i)} if i % 13 == 0 else None)
            ti.uid = ti.gid = 0 if i % 5 else 1000
            data = rnd.randbytes(64 + i)
            ti.size = len(data)
            files.tar.addfile(ti, io.BytesIO(data))
    top = Layer()
    top.dir("many")
    top.dir("many/03")
    top.file("many/03/.wh..wh..opq", b"")
    top.file("many/03/new", b"replaces a whole directory\n")
    top.file("many/.wh.04", b"")
    top.file("many/05/000", b"changed\n", 0o640)
    return image(layout, [busybox_layer(layout), files.finish(layout), top.finish(layout)])


def index(layout):
    entries = []
    for arch in ("amd64", "arm64"):
        layer = Layer()
        layer.file("arch", arch.encode() + b"\n")
        desc = image(layout, [layer.finish(layout)], arch=arch)
        desc["platform"] = {"os": "linux", "architecture": arch}
        if arch == "arm64":
            desc["platform"]["variant"] = "v8"
        entries.append(desc)
    idx = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": entries}
    desc = put_blob(layout, json.dumps(idx, sort_keys=True).encode())
    desc["mediaType"] = idx["mediaType"]
    return desc


def big(layout, dirs):
    layer = Layer()
    for top in dirs:
        for root, subdirs, files in os.walk(top):
            subdirs.sort()
            rel = os.path.relpath(root, "/")
            layer.dir(rel)
            for name in sorted(files):
                path = os.path.join(root, name)
                if os.path.islink(path):
                    layer.symlink(os.path.join(rel, name), os.readlink(path))
                elif os.path.isfile(path):
                    with open(path, "rb") as f:
                        layer.file(os.path.join(rel, name), f.read())
    return image(layout, [layer.finish(layout)])


def main():
    layout = sys.argv[1]
    os.makedirs(os.path.join(layout, "blobs", "sha256"), exist_ok=True)
    with open(os.path.join(layout, "oci-layout"), "w") as f:
        json.dump({"imageLayoutVersion": "1.0.0"}, f)
    if len(sys.argv) > 2 and sys.argv[2] == "big":
        tags = {"big": big(layout, sys.argv[3:])}
    else:
        victim = Layer()
        victim.file("victim", b"a layer the tests corrupt in the registry's storage\n" * 1000)
        tags = {"busybox": image(layout, [busybox_layer(layout)]), "multi": multi(layout), "index": index(layout),
                "victim": image(layout, [victim.finish(layout)]), "many": many(layout),
                "some": many(layout, 10)}
    manifests = []
    for tag, desc in tags.items():
        desc = dict(desc)
        desc["annotations"] = {"org.opencontainers.image.ref.name": tag}
        manifests.append(desc)
    with open(os.path.join(layout, "index.json"), "w") as f:
        json.dump({"schemaVersion": 2, "manifests": manifests}, f)


if __name__ == "__main__":
    main()
