#!/usr/bin/python3
"""The chaos driver of tests/integration/chaos.sh (which sets up the
registry, the bundle, the cgroup prefix and the cleanup, and passes all of
it in the environment).

Each round picks an operation (pull, rmi, image mount, image unmount,
snapshot create, snapshot remove, gc, runtime create, runtime delete) with
the seeded generator, starts it, SIGKILLs it after a random part of its
usual length, and checks the store (it loads; every layer the record lists
is whole). Then the next ordinary operation runs (the one a user would run
next: the same pull again, delete --force, ...) and everything is checked:
the store loads, every image's tree is the reference's (sha256, mode,
owner and xattrs of every entry, from a pull into a brand-new store),
`system df` agrees with the disk (after the kill too, for what killed
runtime creates left), and no temp file, trash, cgroup, mount or
process of berth's is left. Prints the seed first; exits 1 at the first
failure, saying what and where.
"""
import fcntl
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import tree_manifest  # noqa: E402

E = os.environ
BERTH, HELPER, RUNTIME = E["BERTH"], E["HELPER"], E["RUNTIME_EXEC"]
ROOT, RUN, REF = E["CHAOS_ROOT"], E["CHAOS_RUN"], E["CHAOS_REF"]
STATE, BUNDLE, CG = E["CHAOS_STATE"], E["CHAOS_BUNDLE"], E["CHAOS_CG"]
BUILDDIR = os.path.realpath(E["top_builddir"])
IMAGES = E["CHAOS_IMAGES"].split()
KILLS = int(E.get("KILLS", "300"))
BUDGET = float(E.get("BUDGET", "240"))
SEED = int(E["SEED"])
rnd = random.Random(SEED)
CG_MOUNTS = [l.split()[4] for l in open("/proc/self/mountinfo")
             if l.split(" - ")[1].split()[0] in ("cgroup", "cgroup2")]


class Fail(Exception):
    pass


SPENT = {}


def spent(what, t0):
    """Adds the time since t0 to what, for the summary."""
    SPENT[what] = SPENT.get(what, 0) + time.monotonic() - t0


def berth(*args):
    return [BERTH, "--root", ROOT, "--runroot", RUN] + list(args)


def helper(*args):
    return [HELPER, ROOT, RUN] + list(args)


def runtime(*args):
    return [RUNTIME, "--root", STATE] + list(args)


def run(cmd, ok_errors=()):
    """cmd run to its end; its output. Fails unless rc 0 or the error
    output holds one of ok_errors."""
    # files, not pipes: a created container keeps its stdio open
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        try:
            rc = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                timeout=30).returncode
        except subprocess.TimeoutExpired:
            raise Fail("%s: still running after 30 s" % " ".join(cmd))
        out.seek(0)
        err.seek(0)
        text, errors = out.read(), err.read()
    if rc and not any(e in errors for e in ok_errors):
        raise Fail("%s: rc %d: %s" % (" ".join(cmd[3:] if cmd[0] == BERTH else cmd[1:]), rc,
                                       errors.strip()[:300]))
    return text


# ---- the reference -----------------------------------------------------------

def layers_record(root):
    path = os.path.join(root, "storage", "layers.json")
    if not os.path.exists(path):
        return {}
    with open(path) as f:
        return json.load(f)["layers"]


def reference():
    trees, layers = {}, {}
    for img in IMAGES:
        run([BERTH, "--root", REF, "--runroot", REF + "-run", "pull", "-q", img])
        mp = run([BERTH, "--root", REF, "--runroot", REF + "-run", "image", "mount", img]).strip()
        trees[img] = tree_manifest.manifest(mp)
        run([BERTH, "--root", REF, "--runroot", REF + "-run", "image", "unmount", img])
    for chain, entry in layers_record(REF).items():
        d = os.path.join(REF, "storage", "layers", chain.split(":")[1], "diff")
        layers[chain] = (tree_manifest.manifest(d), entry["size"])
    return trees, layers


# ---- what the test knows -----------------------------------------------------

class Model:
    def __init__(self):
        self.images = set()     # pulled
        self.mounted = set()
        self.snaps = {}         # id -> image
        self.containers = set()
        self.n = 0

    def new_id(self, kind):
        self.n += 1
        return "%s%d" % (kind, self.n)


def tags():
    with open(os.path.join(ROOT, "content", "index.json")) as f:
        return [m["annotations"]["org.opencontainers.image.ref.name"] for m in json.load(f)["manifests"]]


# ---- checks ------------------------------------------------------------------

def du(path):
    """Bytes of path and everything below it, as du counts them."""
    total = os.lstat(path).st_blocks * 512
    for d, dirs, files in os.walk(path):
        for n in dirs + files:
            total += os.lstat(os.path.join(d, n)).st_blocks * 512
    return total


def remains():
    """What killed creates left in the runtime's state root, as the sweep
    finds it: .new-* and <id> without state.json whose lock nobody holds
    (a .new-* killed before its lock file too). (number, bytes)."""
    n = size = 0
    names = os.listdir(STATE) if os.path.isdir(STATE) else []
    for name in names:
        d = os.path.join(STATE, name)
        if not os.path.isdir(d) or name.startswith(".") and not name.startswith(".new-") or \
                not name.startswith(".") and os.path.exists(os.path.join(d, "state.json")):
            continue
        try:
            fd = os.open(os.path.join(d, "lock"), os.O_RDONLY)
        except FileNotFoundError:
            if not name.startswith(".new-"):
                continue
            fd = -1
        try:
            if fd >= 0:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            continue
        finally:
            if fd >= 0:
                os.close(fd)
        n, size = n + 1, size + du(d)
    return n, size


REMAINS_SEEN = [0]


def check_runtime_df(rows):
    """df's runtime row agrees with the state root on disk."""
    n, size = remains()
    REMAINS_SEEN[0] += n > 0
    got = (rows["leftovers"][0], rows["runtime"][2])
    if got != (n, size):
        raise Fail("system df: runtime remains %d, %d bytes reclaimable; the state root holds %d, %d bytes"
                   % (got + (n, size)))


def df_rows():
    out = run(helper("df"))
    return {l.split()[0]: [int(x) for x in l.split()[1:]] for l in out.splitlines()}


def check_store(trees, ref_layers, load=True):
    """The store loads (the image list, layers.json, disk usage, which
    counts what killed creates left as on disk), and every layer the
    record lists is whole."""
    if load:
        t0 = time.monotonic()
        check_runtime_df(df_rows())
        spent("load", t0)
    for chain, entry in layers_record(ROOT).items():
        d = os.path.join(ROOT, "storage", "layers", chain.split(":")[1], "diff")
        if chain not in ref_layers:
            raise Fail("layers.json lists %s, which no image has" % chain)
        if not os.path.isdir(d):
            raise Fail("layers.json lists %s, its directory is missing" % chain)
        got = tree_manifest.manifest_cached(d)
        if got != ref_layers[chain][0]:
            raise Fail("layer %s: %s" % (chain, tree_manifest.diff(ref_layers[chain][0], got)))
        if entry["size"] != ref_layers[chain][1]:
            raise Fail("layers.json: layer %s has size %d, it holds %d bytes" %
                       (chain, entry["size"], ref_layers[chain][1]))


def leftovers():
    """Temp files, trash and unlisted directories in the stores."""
    found = []
    for sub in ("content", "content/blobs/sha256", "storage", "storage/layers", "storage/snapshots"):
        d = os.path.join(ROOT, sub)
        if os.path.isdir(d):
            found += [os.path.join(sub, n) for n in os.listdir(d)
                      if n.startswith(".tmp") or ".tmp" in n and n.startswith(".")]
    record = layers_record(ROOT)
    ldir = os.path.join(ROOT, "storage", "layers")
    if os.path.isdir(ldir):
        found += ["storage/layers/%s (not in layers.json)" % n for n in os.listdir(ldir)
                  if not n.startswith(".") and "sha256:" + n not in record]
    if os.path.isdir(STATE):
        found += ["state/" + n for n in os.listdir(STATE) if n.startswith(".")]
    return found


def stale_holds():
    """Users in layers.json that hold nothing: an image neither in the
    store nor mounted, a snapshot that does not exist."""
    blobs = os.path.join(ROOT, "content", "blobs", "sha256")
    found = set()
    for chain, e in layers_record(ROOT).items():
        for u in e["users"]:
            kind, _, name = u.partition(":")
            if kind == "snapshot" and not os.path.isdir(os.path.join(ROOT, "storage", "snapshots", name)):
                found.add(u)
            elif kind == "image":
                hexd = name.split(":")[1]
                mounted = os.path.ismount(os.path.join(RUN, "storage", "images", hexd))
                if not os.path.exists(os.path.join(blobs, hexd)) and not mounted:
                    found.add(u)
    return ["hold " + u for u in sorted(found)]


def cgroups_left(model):
    found = []
    for m in CG_MOUNTS:
        d = os.path.join(m, CG)
        if os.path.isdir(d):
            found += [os.path.join(d, n) for n in os.listdir(d)
                      if os.path.isdir(os.path.join(d, n)) and n not in model.containers]
    return found


# Every process this test starts inherits the marker, so the check below
# sees only this test's: other tests of a parallel make check run the same
# binaries.
MARKER = "BERTH_CHAOS_RUN=%d-%d" % (os.getpid(), time.time_ns())
os.environ["BERTH_CHAOS_RUN"] = MARKER.split("=", 1)[1]


def berth_processes():
    """This test's processes running binaries of the build tree (ours are
    all waited for)."""
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            exe = os.readlink("/proc/%s/exe" % pid)
            with open("/proc/%s/environ" % pid, "rb") as f:
                env = f.read().split(b"\0")
        except OSError:
            continue
        if exe.startswith(BUILDDIR + "/") and MARKER.encode() in env:
            found.append("%s %s" % (pid, exe))
    return found


def mounts_left(model):
    want = set()
    for m in open("/proc/self/mountinfo"):
        mp = m.split()[4]
        if mp.startswith(os.path.join(RUN, "storage") + "/"):
            want.add(mp)
    return sorted(want), len(model.mounted)


def check_df():
    rows = df_rows()
    check_runtime_df(rows)
    record = layers_record(ROOT)
    size = sum(e["size"] for e in record.values())
    free = sum(e["size"] for e in record.values() if not e["users"])
    if rows["layers"] != [len(record), size, free]:
        raise Fail("system df: layers %r, the store has %d layers, %d bytes, %d unused" %
                   (rows["layers"], len(record), size, free))
    if rows["images"][0] != len(tags()):
        raise Fail("system df: %d images, index.json has %d" % (rows["images"][0], len(tags())))


def check_all(model, trees, ref_layers, tree_of=()):
    t0 = time.monotonic()
    check_store(trees, ref_layers, load=False)  # check_df loads it
    spent("store", t0)
    t0 = time.monotonic()
    left = leftovers() + stale_holds() + cgroups_left(model) + berth_processes()
    if remains()[0]:
        left.append("%d remains of killed creates in %s" % (remains()[0], STATE))
    if left:
        raise Fail("left behind: " + ", ".join(left[:8]))
    mounts, n = mounts_left(model)
    if len(mounts) != n:
        raise Fail("mounts %r, the test mounted %d images" % (mounts, n))
    spent("leftovers", t0)
    t0 = time.monotonic()
    for img in tree_of:
        mp = run(berth("image", "mount", img)).strip()
        got = tree_manifest.manifest(mp)
        if img not in model.mounted:
            run(berth("image", "unmount", img))
        if got != trees[img]:
            raise Fail("image %s: %s" % (img, tree_manifest.diff(trees[img], got)))
    spent("trees", t0)
    t0 = time.monotonic()
    check_df()
    spent("df", t0)


# ---- operations ----------------------------------------------------------------
# Each returns (command to kill, recovery) for the model's state; recovery
# runs the next ordinary operation and brings the model to a known state,
# returning the images whose tree to compare.

def op_pull(m):
    img = rnd.choice(IMAGES)

    def after():
        run(berth("pull", "-q", img))
        m.images.add(img)
        return [img]
    return berth("pull", "-q", img), after


def ensure_pulled(m):
    img = rnd.choice(IMAGES)
    if img not in m.images:
        run(berth("pull", "-q", img))
        m.images.add(img)
    return img


def op_rmi(m):
    img = ensure_pulled(m)
    if img in m.mounted:
        run(berth("image", "unmount", img))
        m.mounted.discard(img)
    for sid in [s for s, i in m.snaps.items() if i == img]:
        run(helper("snap-remove", sid))
        del m.snaps[sid]

    def after():
        # as the user did: pull it again, and look at its tree
        run(berth("pull", "-q", img))
        return [img]
    return berth("rmi", img), after


def op_mount(m):
    img = ensure_pulled(m)

    def after():
        run(berth("image", "mount", img))
        m.mounted.add(img)
        return []
    return berth("image", "mount", img), after


def op_unmount(m):
    img = ensure_pulled(m)
    run(berth("image", "mount", img))
    m.mounted.add(img)

    def after():
        run(berth("image", "unmount", img), ok_errors=("not mounted",))
        m.mounted.discard(img)
        return [img]
    return berth("image", "unmount", img), after


def op_snap_create(m):
    img = ensure_pulled(m)
    sid = m.new_id("s")
    driver = rnd.choice(["copy", "overlay"])

    def after():
        # the user tries again, then removes it
        run(helper("snap-create", sid, img, driver), ok_errors=("exists already",))
        run(helper("snap-remove", sid))
        return []
    return helper("snap-create", sid, img, driver), after


def op_snap_remove(m):
    img = ensure_pulled(m)
    sid = m.new_id("s")
    run(helper("snap-create", sid, img, rnd.choice(["copy", "overlay"])))

    def after():
        run(helper("snap-remove", sid), ok_errors=("no such snapshot",))
        return []
    return helper("snap-remove", sid), after


def op_gc(m):
    # something to collect: an image removed without its blobs' gc
    img = ensure_pulled(m)

    def after():
        run(berth("image", "prune"))
        return []
    return berth("image", "prune"), after


def bundle_for(cid):
    d = os.path.join(os.path.dirname(BUNDLE), "b-" + cid)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(BUNDLE, "config.json")) as f:
        c = json.load(f)
    c["root"]["path"] = os.path.join(BUNDLE, "rootfs")
    c["linux"]["cgroupsPath"] = "/%s/%s" % (CG, cid)
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(c, f)
    return d


def op_rt_create(m):
    cid = m.new_id("c")
    b = bundle_for(cid)

    def after():
        run(runtime("delete", "--force", cid), ok_errors=("does not exist",))
        return []
    return runtime("create", "--bundle", b, cid), after


def op_rt_delete(m):
    cid = m.new_id("c")
    run(runtime("create", "--bundle", bundle_for(cid), cid))
    m.containers.add(cid)

    def after():
        run(runtime("delete", "--force", cid), ok_errors=("does not exist",))
        m.containers.discard(cid)
        return []
    return runtime("delete", "--force", cid), after


OPS = {"pull": op_pull, "rmi": op_rmi, "mount": op_mount, "unmount": op_unmount,
       "snap-create": op_snap_create, "snap-remove": op_snap_remove, "gc": op_gc,
       "rt-create": op_rt_create, "rt-delete": op_rt_delete}


def timed(cmd):
    t = time.monotonic()
    run(cmd)
    return time.monotonic() - t


def main():
    print("chaos: SEED=%d (replay: SEED=%d make check TESTS=tests/integration/chaos.sh)" % (SEED, SEED),
          flush=True)
    trees, ref_layers = reference()
    m = Model()
    # each operation's usual length, from one run of it not killed
    length = {}
    for name, op in OPS.items():
        cmd, after = op(m)
        length[name] = timed(cmd)
        after()
    check_all(m, trees, ref_layers)
    kills = {n: 0 for n in OPS}
    rounds, start = 0, time.monotonic()
    while sum(kills.values()) < KILLS:
        if time.monotonic() - start > BUDGET:
            raise Fail("only %d kills in %d s (%r; seconds spent: %s)" % (
                sum(kills.values()), BUDGET, kills, ", ".join("%s %.1f" % kv for kv in SPENT.items())))
        name = rnd.choice(list(OPS))
        rounds += 1
        t0 = time.monotonic()
        cmd, after = OPS[name](m)
        spent("setup", t0)
        t0 = time.monotonic()
        delay = rnd.uniform(0, length[name])
        p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        time.sleep(delay)
        landed = p.poll() is None
        if landed:
            p.send_signal(signal.SIGKILL)
            kills[name] += 1
        # the next delays follow the operation's length as it is now (a
        # pull of an image present is short): shorter when this one ended
        # before the kill, a little longer when it did not
        length[name] *= 1.05 if landed else 0.7
        p.wait()
        spent("kill", t0)
        where = "round %d, %s killed after %.1f ms%s" % (rounds, name, delay * 1000,
                                                          "" if landed else " (it had ended)")
        try:
            t0 = time.monotonic()
            check_store(trees, ref_layers)
            spent("store", t0)
        except Fail as e:
            raise Fail("%s: right after the kill: %s" % (where, e))
        try:
            t0 = time.monotonic()
            tree_of = after()
            spent("next op", t0)
            check_all(m, trees, ref_layers, tree_of)
        except Fail as e:
            raise Fail("%s: after the next %s: %s" % (where, name, e))
    print("chaos: %d kills in %d rounds, %.0f s: %s" % (
        sum(kills.values()), rounds, time.monotonic() - start,
        ", ".join("%s %d" % kv for kv in kills.items())))
    print("chaos: seconds spent: " + ", ".join("%s %.1f" % kv for kv in SPENT.items()))
    print("chaos: %d times df counted remains of killed creates, as on disk" % REMAINS_SEEN[0])


if __name__ == "__main__":
    try:
        main()
    except Fail as e:
        print("FAIL: %s (SEED=%d)" % (e, SEED))
        sys.exit(1)
