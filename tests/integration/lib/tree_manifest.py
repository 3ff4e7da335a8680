"""A cheap manifest of a file tree, to compare trees without copying them.

One line per entry below the root, sorted: path, type, mode, owner, size,
sha256 of a regular file's content (or a link's target, a device's
numbers) and every xattr. Whole manifests of unchanged trees are cached
(manifest_cached), hashes by (device, inode, size, mtime,
ctime), so checking the same unchanged tree again reads no file: a file's
content cannot change without its mtime and ctime changing.

    tree_manifest.py DIR     prints the manifest
"""
import hashlib
import os
import stat
import sys

_cache = {}


def _digest(path, st):
    key = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
    d = _cache.get(key)
    if d is None:
        h = hashlib.sha256()
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
        d = _cache[key] = h.hexdigest()
    return d


def _xattrs(path):
    try:
        names = sorted(os.listxattr(path, follow_symlinks=False))
    except OSError:
        return ""
    return ",".join("%s=%s" % (n, os.getxattr(path, n, follow_symlinks=False).hex())
                    for n in names)


def manifest(root):
    """The lines of root's manifest (root itself as ".")."""
    lines = []
    for top, dirs, files in os.walk(root):
        for name in dirs + files + ([""] if top == root else []):
            path = os.path.join(top, name) if name else top
            st = os.lstat(path)
            rel = os.path.relpath(path, root)
            m = st.st_mode
            if stat.S_ISREG(m):
                what = "f %d %s" % (st.st_size, _digest(path, st))
            elif stat.S_ISLNK(m):
                what = "l " + os.readlink(path)
            elif stat.S_ISCHR(m) or stat.S_ISBLK(m):
                what = "%s %d:%d" % ("c" if stat.S_ISCHR(m) else "b", os.major(st.st_rdev),
                                     os.minor(st.st_rdev))
            elif stat.S_ISDIR(m):
                what = "d"
            else:
                what = "p"
            lines.append("%s %s %o %d:%d %s" % (rel, what, stat.S_IMODE(m), st.st_uid, st.st_gid,
                                                _xattrs(path)))
    return sorted(lines)


_trees = {}


def manifest_cached(root):
    """manifest(root), reused while no directory of the tree changed: an
    entry added, removed or renamed changes its directory's mtime, a
    directory replaced has another inode. (Files changed in place are not
    seen: for trees that nothing modifies in place, as unpacked layers.)"""
    sig = []
    for top, dirs, files in os.walk(root):
        st = os.lstat(top)
        sig.append((top, st.st_ino, st.st_mtime_ns, st.st_ctime_ns, len(dirs) + len(files)))
    sig = tuple(sig)
    if sig not in _trees:
        _trees[sig] = manifest(root)
    return _trees[sig]


def diff(want, got, limit=5):
    """A short description of how got differs from want, "" when equal."""
    if want == got:
        return ""
    w, g = set(want), set(got)
    missing, extra = sorted(w - g), sorted(g - w)
    return "%d of %d entries missing or different (%s), %d unexpected (%s)" % (
        len(missing), len(want), "; ".join(missing[:limit]), len(extra), "; ".join(extra[:limit]))


if __name__ == "__main__":
    print("\n".join(manifest(sys.argv[1])))
