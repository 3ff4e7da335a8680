"""docker-py's object layer of the berth module: ctx.containers, ctx.volumes
and ctx.networks, their Container, Volume and Network objects, and
ContainerError. Pure Python over the flat Context methods (container_create,
container_start, ...), which bind the C calls one to one and release the
GIL; the berth extension imports this module when it loads and calls
_install(), which puts the classes into berth and the collections on
berth.Context. Use it through berth, never directly."""
import collections
import datetime
import json
import os
import selectors
import shlex
import signal as _signal
import tarfile
import tempfile
import threading
import time

_berth = None  # the berth module, set by _install()

ExecResult = collections.namedtuple("ExecResult", "exit_code output")
ExecResult.__doc__ = "What Container.exec_run() returns, as docker-py's: (exit_code, output)."


# ---- docker-py's argument forms into the flat methods' --------------------

def _invalid(message):
    """berth.InvalidArgumentError as the library raises it (message, errno)."""
    e = _berth.InvalidArgumentError(message)
    e.message, e.errno = message, 0
    return e


def _bytes(value, what):
    """docker-py's sizes: an int, or a str with b, k, m or g (powers of 1024)."""
    if value is None or isinstance(value, int):
        return value
    text = str(value).strip().lower()
    units = {"b": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30}
    try:
        if text and text[-1] in units:
            return int(float(text[:-1]) * units[text[-1]])
        return int(text)
    except ValueError:
        raise _invalid(f"{what}: {value!r} is not a size (an int, or a number with b, k, m or g)") from None


def _command(value):
    """command and entrypoint: a list, or a str split as a shell would (docker-py's split_command)."""
    return shlex.split(value) if isinstance(value, str) else value


def _publish(ports):
    """docker-py's ports {"80/tcp": 8080, "53/udp": None, 443: ("127.0.0.1", 8443), 22: [2222, 2223]}
    (or a list of container ports) as -p specs."""
    if isinstance(ports, (list, tuple)):
        return [str(p) for p in ports]
    specs = []
    for inside, outside in ports.items():
        inside = str(inside)
        for host in outside if isinstance(outside, list) else [outside]:
            if host is None:
                specs.append(inside)
            elif isinstance(host, tuple):
                ip, port = (host + (None,))[:2]
                specs.append(f"{ip}:{'' if port is None else port}:{inside}")
            else:
                specs.append(f"{host}:{inside}")
    return specs


def _security_opt(options, kwargs):
    for opt in options:
        key, _, value = opt.replace(":", "=", 1).partition("=")
        if key == "no-new-privileges" and value in ("", "true"):
            kwargs["no_new_privileges"] = True
        elif key == "seccomp" and value:
            kwargs["seccomp"] = value
        else:
            raise _invalid(f"security_opt: {opt!r} is not supported (no-new-privileges, seccomp=...)")


def _ulimit(u):
    """docker-py's Ulimit or {"Name": "nofile", "Soft": 1024, "Hard": 2048}, or "nofile=1024:2048"."""
    if isinstance(u, str):
        return u
    get = u.get if isinstance(u, dict) else lambda k: getattr(u, k.lower(), None)
    name, soft, hard = get("Name") or get("name"), get("Soft"), get("Hard")
    if soft is None:
        soft = get("soft")
    if hard is None:
        hard = get("hard")
    return f"{name}={soft}" + ("" if hard is None else f":{hard}")


def _create_options(kwargs):
    """The run and create keywords of docker-py as container_create() takes them."""
    kw = dict(kwargs)
    if "network" in kw:
        network = kw.pop("network")
        if kw.get("network_mode") not in (None, network):
            raise _invalid("network and network_mode name different networks")
        kw["network_mode"] = network
    if kw.pop("network_disabled", False):
        kw["network_mode"] = "none"
    if kw.get("ports") is not None:
        kw["publish"] = _publish(kw.pop("ports"))
    kw.pop("ports", None)
    if "publish_all_ports" in kw:
        kw["publish_all"] = kw.pop("publish_all_ports")
    for size in ("mem_limit", "memswap_limit", "shm_size"):
        if kw.get(size) is not None:
            kw[size] = _bytes(kw[size], size)
    if kw.get("entrypoint") is not None:
        kw["entrypoint"] = _command(kw["entrypoint"])
    if kw.get("security_opt") is not None:
        _security_opt(kw.pop("security_opt"), kw)
    kw.pop("security_opt", None)
    if kw.get("ulimits") is not None:
        kw["ulimits"] = [_ulimit(u) for u in kw["ulimits"]]
    if isinstance(kw.get("extra_hosts"), dict):
        kw["extra_hosts"] = [f"{name}:{ip}" for name, ip in kw["extra_hosts"].items()]
    if kw.get("cpu_count") is not None:
        raise _invalid("cpu_count is not supported; nano_cpus=int(cpus * 1e9) limits CPU")
    return kw


def _signal_number(sig):
    """A signal as int, or a name with or without SIG ("TERM", "SIGKILL")."""
    if sig is None or isinstance(sig, int):
        return sig
    name = sig.upper() if sig.upper().startswith("SIG") else "SIG" + sig.upper()
    try:
        return int(getattr(_signal, name))
    except AttributeError:
        raise _invalid(f"signal: {sig!r} is not a signal name") from None


def _read_streams(fds, chunks):
    """Reads the fds (a dict fd -> stream name) to their ends, appending
    (stream, bytes) to chunks in the order they came."""
    with selectors.DefaultSelector() as sel:
        for fd, name in fds.items():
            sel.register(fd, selectors.EVENT_READ, name)
        while sel.get_map():
            for key, _ in sel.select():
                data = os.read(key.fd, 65536)
                if data:
                    chunks.append((key.data, data))
                else:
                    sel.unregister(key.fd)


def _joined(chunks, streams):
    return b"".join(data for name, data in chunks if name in streams)


def _wanted(stdout, stderr):
    return {name for name, on in (("stdout", stdout), ("stderr", stderr)) if on}


def _seconds(value):
    """since/until as docker-py takes them: a datetime, or seconds since the epoch."""
    if value is None:
        return None
    if isinstance(value, datetime.datetime):
        return value.timestamp()
    return float(value)


def _log_time(text):
    """A json-file record's time (RFC 3339, nanoseconds, Z) in seconds since the epoch."""
    whole, _, frac = text.rstrip("Z").partition(".")
    stamp = datetime.datetime.strptime(whole, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=datetime.timezone.utc)
    return stamp.timestamp() + (float("0." + frac) if frac else 0.0)


def _filters(filters):
    """docker-py's filters {"label": ["a=b"], "status": "exited"} as (key, [values])."""
    for key, value in (filters or {}).items():
        yield key, value if isinstance(value, (list, tuple)) else [value]


def _labels_match(labels, wanted):
    for want in wanted:
        key, eq, value = str(want).partition("=")
        if key not in labels or (eq and labels[key] != value):
            return False
    return True


# ---- base classes -----------------------------------------------------------

class _Model:
    """An object of a collection: its id, attrs (the inspect dict) and the
    context it keeps alive."""

    def __init__(self, attrs, collection):
        self.attrs = attrs
        self.collection = collection
        self.client = collection.client

    _id_key = "Id"

    @property
    def id(self):
        """Its id."""
        return self.attrs[self._id_key]

    @property
    def short_id(self):
        """The id's first 12 characters."""
        return self.id[:12]

    def __repr__(self):
        return f"<{type(self).__name__}: {self.short_id}>"

    def __eq__(self, other):
        return isinstance(other, type(self)) and other.id == self.id

    def __hash__(self):
        return hash((type(self).__name__, self.id))

    def reload(self):
        """Reads attrs again from the store."""
        self.attrs = self.collection.get(self.id).attrs


class _Collection:
    """ctx.containers, ctx.volumes or ctx.networks: keeps its context alive."""

    _model = None

    def __init__(self, client):
        self.client = client

    def __repr__(self):
        return f"<{type(self).__name__} of {self.client!r}>"

    def _wrap(self, attrs):
        return self._model(attrs, self)


# ---- containers --------------------------------------------------------------

class Container(_Model):
    """A container (docker-py's Container): ctx.containers.get(name), or what
    run(detach=True) and create() return. attrs is container_inspect()'s
    dict as it was when the object was made or reloaded."""

    @property
    def name(self):
        """Its name, without Docker's leading slash."""
        return self.attrs["Name"].lstrip("/")

    @property
    def status(self):
        """created, running, paused, restarting, exited or dead (as of attrs)."""
        return self.attrs["State"]["Status"]

    @property
    def labels(self):
        """Its labels, a dict."""
        return dict(self.attrs["Config"].get("Labels") or {})

    @property
    def image(self):
        """Its image, a berth.Image (None when it was removed)."""
        try:
            return self.client.images.get(self.attrs["Image"])
        except _berth.NotFoundError:
            return None

    @property
    def ports(self):
        """Published ports as docker-py's {"80/tcp": [{"HostIp": ..., "HostPort": ...}]}."""
        return dict(self.attrs.get("NetworkSettings", {}).get("Ports") or {})

    def start(self):
        """Starts it detached (its output goes to its log)."""
        self.client.container_start(self.id)

    def stop(self, timeout=None):
        """Sends its stop signal, waits timeout seconds (None: its stop timeout),
        then kills it. berth.StateError when it does not run."""
        self.client.container_stop(self.id, timeout)

    def kill(self, signal=None):
        """Sends signal (an int or a name, default SIGKILL) to its init."""
        sig = _signal_number(signal)
        self.client.container_kill(self.id, _signal.SIGKILL if sig is None else sig)

    def restart(self, timeout=None):
        """Stops it as stop() does, then starts it again."""
        self.client.container_restart(self.id, timeout)

    def pause(self):
        """Freezes its processes."""
        self.client.container_pause(self.id)

    def unpause(self):
        """Thaws its processes."""
        self.client.container_unpause(self.id)

    def wait(self, timeout=None, condition=None):
        """Waits for it to end (timeout in seconds; berth.TimeoutError after)
        and returns {"StatusCode": n, "OOMKilled": bool, "Error": None}."""
        if condition not in (None, "not-running", "next-exit"):
            raise _invalid(f"condition: {condition!r} is not supported (not-running, next-exit)")
        result = self.client.container_wait(self.id, timeout)
        result["Error"] = None
        return result

    def logs(self, stdout=True, stderr=True, stream=False, timestamps=False, tail="all", since=None,
             follow=None, until=None):
        """Its log (detached runs write one): bytes, or with stream an
        iterator of lines (bytes). follow (default: as stream) goes on until
        it ends; tail: "all" or the last n lines; since and until: datetimes
        or seconds since the epoch; timestamps puts each line's time first."""
        lines = self._log_lines(_wanted(stdout, stderr), timestamps, tail, _seconds(since), _seconds(until),
                                stream if follow is None else follow)
        return lines if stream else b"".join(lines)

    def _log_lines(self, streams, timestamps, tail, since, until, follow):
        path = self.client.container_inspect(self.id).get("LogPath")
        files = []
        n = 1
        while path and os.path.exists(f"{path}.{n}"):
            files.insert(0, f"{path}.{n}")
            n += 1
        offset = [0]

        def read(name, start):
            out = []
            try:
                with open(name, "rb") as f:
                    f.seek(start)
                    data = f.read()
            except FileNotFoundError:
                return out, start
            end = data.rfind(b"\n") + 1  # a line still being written waits for the next read
            for raw in data[:end].splitlines():
                try:
                    rec = json.loads(raw)
                except ValueError:
                    continue
                t = _log_time(rec["time"])
                if rec.get("stream") not in streams or (since is not None and t < since) or (
                        until is not None and t > until):
                    continue
                text = rec["log"].encode()
                out.append((rec["time"] + " ").encode() + text if timestamps else text)
            return out, start + end

        def generate():
            old = []
            for name in files:
                old += read(name, 0)[0]
            current, offset[0] = read(path, 0) if path else ([], 0)
            old += current
            if tail != "all" and tail is not None:
                old = old[len(old) - int(tail):] if int(tail) > 0 else []
            yield from old
            while follow and path:
                running = self.client.container_inspect(self.id)["State"]["Running"]
                if os.path.exists(path) and os.stat(path).st_size < offset[0]:
                    offset[0] = 0  # rotated
                new, offset[0] = read(path, offset[0])
                yield from new
                if not running:
                    break
                time.sleep(0.1)

        return generate()

    def exec_run(self, cmd, stdout=True, stderr=True, stdin=False, tty=False, privileged=False, user="",
                 detach=False, stream=False, socket=False, environment=None, workdir=None, demux=False):
        """Runs cmd (a list, or a str split as a shell would) in it and
        returns ExecResult(exit_code, output): output bytes (stdout and
        stderr as asked, in the order they came), or (stdout, stderr) with
        demux. detach: returns ExecResult(None, None) once it runs."""
        if stdin or stream or socket or privileged:
            raise _invalid("exec_run: stdin, stream, socket and privileged are not supported")
        cmd = _command(cmd)
        if isinstance(environment, dict):
            environment = [f"{k}={v}" for k, v in environment.items()]
        kw = dict(environment=environment, user=user or None, workdir=workdir, tty=tty)
        if detach:
            self.client.container_exec(self.id, cmd, detach=True, stdio=(None, None, None), **kw)
            return ExecResult(None, None)
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        chunks, result = [], {}

        def run():
            try:
                result["code"] = self.client.container_exec(self.id, cmd, stdio=(None, out_w, err_w), **kw)
            except BaseException as e:  # raised again in the caller's thread
                result["error"] = e
            finally:
                os.close(out_w)
                os.close(err_w)

        # the exec blocks until the process ends: its output is read meanwhile
        worker = threading.Thread(target=run, name="berth-exec")
        worker.start()
        try:
            _read_streams({out_r: "stdout", err_r: "stderr"}, chunks)
        finally:
            worker.join()
            os.close(out_r)
            os.close(err_r)
        if "error" in result:
            raise result["error"]
        if demux:
            return ExecResult(result["code"], (_joined(chunks, {"stdout"}) if stdout else None,
                                               _joined(chunks, {"stderr"}) if stderr else None))
        return ExecResult(result["code"], _joined(chunks, _wanted(stdout, stderr)))

    def top(self, ps_args=None):
        """Its processes: {"Titles": [...], "Processes": [[...], ...]} (host pids)."""
        if ps_args:
            raise _invalid("top: ps_args are not supported")
        return self.client.container_top(self.id)

    def stats(self, stream=False, decode=None, one_shot=None):
        """Its resource usage, a dict (memory_usage, cpu_usage_ns, pids_current, ...);
        with stream an iterator of one a second while it runs."""
        if not stream:
            return self.client.container_stats(self.id)

        def generate():
            while True:
                try:
                    yield self.client.container_stats(self.id)
                except _berth.StateError:
                    return
                time.sleep(1)
        return generate()

    def diff(self):
        """Its changes against its image: [{"Path": ..., "Kind": 0|1|2}]."""
        return self.client.container_diff(self.id)

    def put_archive(self, path, data):
        """Extracts a tar (bytes, or a file object) into directory path of it; True."""
        with tempfile.TemporaryFile() as f:
            if isinstance(data, (bytes, bytearray, memoryview)):
                f.write(data)
            else:
                for chunk in iter(lambda: data.read(1 << 20), b""):
                    f.write(chunk)
            f.seek(0)
            self.client.container_copy_to(self.id, path, f)
        return True

    def get_archive(self, path, chunk_size=2 << 20, encode_stream=False):
        """path of it as a tar: (an iterator of bytes chunks, a stat dict
        {"name", "size", "mode", "mtime", "linkTarget"}), as docker-py's."""
        f = tempfile.TemporaryFile()
        try:
            self.client.container_copy_from(self.id, path, f)
            f.seek(0)
            with tarfile.open(fileobj=f, mode="r:") as tar:
                top = tar.next()
            f.seek(0)
        except BaseException:
            f.close()
            raise
        stat = {"name": top.name if top else os.path.basename(path), "size": top.size if top else 0,
                "mode": top.mode if top else 0, "mtime": top.mtime if top else 0,
                "linkTarget": top.linkname if top else ""}
        return _chunks(f, chunk_size), stat

    def export(self, chunk_size=2 << 20):
        """Its whole root file system as a tar: an iterator of bytes chunks."""
        f = tempfile.TemporaryFile()
        try:
            self.client.container_export(self.id, f)
            f.seek(0)
        except BaseException:
            f.close()
            raise
        return _chunks(f, chunk_size)

    def commit(self, repository=None, tag=None, message=None, author=None, changes=None, conf=None, **kwargs):
        """Makes an image of it tagged repository[:tag]; a berth.Image.
        changes: Dockerfile instructions (a str or a list)."""
        if conf or kwargs:
            raise _invalid("commit: conf and pause are not supported; use changes")
        if not repository:
            raise _invalid("commit: repository is required (berth tags every image it commits)")
        if isinstance(changes, str):
            changes = [changes]
        ref = f"{repository}:{tag}" if tag else repository
        image_id = self.client.container_commit(self.id, ref, message=message, author=author, changes=changes)
        return self.client.images.get(image_id)

    def rename(self, name):
        """Gives it a new name; berth.ExistsError when another container has it."""
        self.client.container_rename(self.id, name)
        self.reload()

    def resize(self, height, width):
        """Sets the size of its terminal."""
        self.client.container_resize(self.id, height, width)

    def update(self, mem_limit=None, memswap_limit=None, nano_cpus=None, cpu_shares=None, pids_limit=None,
               **kwargs):
        """New limits (sizes as int or "512m"), applied at once when it runs
        and kept for its next start; returns {"Warnings": []}."""
        if kwargs:
            raise _invalid(f"update: {', '.join(sorted(kwargs))} not supported "
                                      "(mem_limit, memswap_limit, nano_cpus, cpu_shares, pids_limit)")
        limits = dict(mem_limit=_bytes(mem_limit, "mem_limit"), memswap_limit=_bytes(memswap_limit, "memswap_limit"),
                      nano_cpus=nano_cpus, cpu_shares=cpu_shares, pids_limit=pids_limit)
        self.client.container_update(self.id, **{k: v for k, v in limits.items() if v is not None})
        return {"Warnings": []}

    def remove(self, v=False, link=False, force=False):
        """Removes it (force: kill it first when it runs; v: its anonymous volumes too)."""
        if link:
            raise _invalid("remove: links are not supported")
        self.client.container_remove(self.id, force=force, v=v)


def _chunks(f, size):
    with f:
        for chunk in iter(lambda: f.read(size), b""):
            yield chunk


class ContainerCollection(_Collection):
    """ctx.containers, as docker-py's client.containers."""

    _model = Container

    def run(self, image, command=None, stdout=True, stderr=False, remove=False, detach=False, **kwargs):
        """Runs command (a list, or a str split as a shell would; None: the
        image's) in a new container of image (in the store: pull it first).
        Not detached: waits for it and returns its output, bytes (stdout by
        default, stderr with stderr=True), and raises berth.ContainerError
        (exit_status, stderr) when it exits non-zero. detach: returns the
        running Container (remove then means auto_remove). remove: the
        container goes once it ended. Other keywords as create()."""
        if detach:
            if remove:
                kwargs["auto_remove"] = True
            container = self.create(image, command, **kwargs)
            try:
                container.start()
            except BaseException:
                container.remove(force=True)
                raise
            container.reload()
            return container
        container = self.create(image, command, **kwargs)
        chunks = []
        try:
            status = self._run_attached(container, chunks)
        finally:
            if remove:
                container.remove(force=True)
        if status != 0:
            raise _berth.ContainerError(container, status, command, image, _joined(chunks, {"stderr"}))
        return _joined(chunks, _wanted(stdout, stderr))

    def _run_attached(self, container, chunks):
        """Starts container with its stdout and stderr on pipes, reads them
        to their ends and returns its exit status."""
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        try:
            try:
                self.client.container_start(container.id, stdio=(None, out_w, err_w))
            finally:
                os.close(out_w)
                os.close(err_w)
            _read_streams({out_r: "stdout", err_r: "stderr"}, chunks)
        finally:
            os.close(out_r)
            os.close(err_r)
        return self.client.container_wait(container.id)["StatusCode"]

    def create(self, image, command=None, **kwargs):
        """Makes a container (not started); a Container. Keywords are
        docker-py's: name, entrypoint, environment, working_dir, user,
        hostname, tty, stdin_open, read_only, privileged, cap_add, cap_drop,
        security_opt (no-new-privileges, seccomp=...), labels, mem_limit,
        memswap_limit, shm_size (int or "64m"), nano_cpus, cpu_shares,
        pids_limit, ulimits, devices, network or network_mode, ports,
        publish_all_ports, volumes, mounts, tmpfs, volumes_from,
        restart_policy, stop_signal, stop_timeout, healthcheck, init,
        log_config, auto_remove, seccomp (see Context.container_create)."""
        if isinstance(image, _berth.Image):
            image = image.id
        container_id = self.client.container_create(image, _command(command), **_create_options(kwargs))
        return self.get(container_id)

    def get(self, container_id):
        """The container of this id, unique id prefix or name;
        berth.NotFoundError when there is none."""
        return self._wrap(self.client.container_inspect(container_id))

    def list(self, all=False, before=None, filters=None, limit=-1, since=None, sparse=False,
             ignore_removed=False):
        """Containers, newest first: the running ones, or all. filters:
        {"status": ..., "name": ..., "id": ..., "label": ["k", "k=v"],
        "ancestor": image, "exited": code}."""
        found = []
        for cid in reversed(self.client.container_ids()):
            try:
                c = self.get(cid)
            except _berth.NotFoundError:
                continue  # removed meanwhile
            if (all or filters and "status" in filters or c.status == "running") and self._match(c, filters):
                found.append(c)
        return found if limit is None or limit < 0 else found[:limit]

    def _match(self, c, filters):
        for key, values in _filters(filters):
            if key == "status":
                ok = c.status in values
            elif key == "name":
                ok = any(v in c.name for v in values)
            elif key == "id":
                ok = any(c.id.startswith(v) for v in values)
            elif key == "label":
                ok = _labels_match(c.labels, values)
            elif key == "exited":
                ok = c.status == "exited" and c.attrs["State"]["ExitCode"] in [int(v) for v in values]
            elif key == "ancestor":
                ok = c.attrs["Config"].get("Image") in values or c.attrs["Image"] in values
            else:
                raise _invalid(f"filters: {key!r} is not supported "
                                          "(status, name, id, label, exited, ancestor)")
            if not ok:
                return False
        return True

    def prune(self, filters=None):
        """Removes every container that does not run:
        {"ContainersDeleted": [ids], "SpaceReclaimed": bytes}."""
        if filters:
            raise _invalid("prune: filters are not supported")
        return self.client.containers_prune()


# ---- volumes -----------------------------------------------------------------

class Volume(_Model):
    """A volume (docker-py's Volume); attrs as volume_inspect()."""

    _id_key = "Name"

    @property
    def name(self):
        """Its name."""
        return self.attrs["Name"]

    def __repr__(self):
        return f"<Volume: {self.name}>"

    def remove(self, force=False):
        """Removes it and its data; berth.BusyError while a container uses it (unless force)."""
        self.client.volume_remove(self.name, force)


class VolumeCollection(_Collection):
    """ctx.volumes, as docker-py's client.volumes."""

    _model = Volume

    def create(self, name=None, driver=None, driver_opts=None, labels=None):
        """Creates a volume (anonymous without a name); one that exists is
        returned as it is. A Volume."""
        return self.get(self.client.volume_create(name, driver=driver, driver_opts=driver_opts, labels=labels))

    def get(self, volume_id):
        """The volume of this name; berth.NotFoundError when there is none."""
        return self._wrap(self.client.volume_inspect(volume_id))

    def list(self, filters=None):
        """Volumes, by name; filters {"dangling": True, "label": ["a=b"], "name": "x"}."""
        return [self.get(name) for name in self.client.volume_names(filters)]

    def prune(self, filters=None):
        """Removes every volume no container uses:
        {"VolumesDeleted": [names], "SpaceReclaimed": bytes}."""
        return self.client.volumes_prune(filters)


# ---- networks ----------------------------------------------------------------

class Network(_Model):
    """A bridge network (docker-py's Network); attrs as network_inspect()."""

    @property
    def name(self):
        """Its name."""
        return self.attrs["Name"]

    @property
    def containers(self):
        """The containers attached to it, as Container objects."""
        found = []
        for cid in (self.attrs.get("Containers") or {}):
            try:
                found.append(self.client.containers.get(cid))
            except _berth.NotFoundError:
                continue
        return found

    def connect(self, container, aliases=None, ipv4_address=None, **kwargs):
        """Connects a container (a Container, name or id) to this network,
        at once when it runs; aliases: more DNS names on a user network."""
        unsupported = sorted(k for k, v in kwargs.items() if v)
        if unsupported:
            raise _invalid(f"connect: {', '.join(unsupported)} not supported")
        self.client.container_network_connect(getattr(container, "id", container), self.name,
                                              aliases=aliases, ip=ipv4_address)

    def disconnect(self, container, force=False):
        """Disconnects a container (a Container, name or id) from this network."""
        self.client.container_network_disconnect(getattr(container, "id", container), self.name)

    def remove(self):
        """Removes it; berth.StateError while containers are attached."""
        self.client.network_remove(self.id)


class NetworkCollection(_Collection):
    """ctx.networks, as docker-py's client.networks."""

    _model = Network

    def create(self, name, driver=None, options=None, ipam=None, internal=False, labels=None, **kwargs):
        """Creates a bridge network; a Network. ipam: {"Config": [{"Subnet":
        ..., "Gateway": ..., "IPRange": ...}]}; options:
        {"com.docker.network.bridge.name": device}; labels a dict."""
        unsupported = sorted(k for k, v in kwargs.items() if v and k not in ("check_duplicate", "attachable"))
        if unsupported or driver not in (None, "bridge"):
            raise _invalid(f"networks.create: {', '.join(unsupported) or 'driver ' + driver} "
                                      "not supported (bridge networks only)")
        pools = (ipam or {}).get("Config") or [{}]
        if len(pools) > 1:
            raise _invalid("networks.create: one IPAM pool at most")
        pool = {k.lower(): v for k, v in pools[0].items()}
        bridge = (options or {}).get("com.docker.network.bridge.name")
        network_id = self.client.network_create(
            name, subnet=pool.get("subnet"), gateway=pool.get("gateway"), ip_range=pool.get("iprange"),
            internal=internal, labels=[f"{k}={v}" for k, v in (labels or {}).items()] or None, bridge=bridge)
        return self.get(network_id)

    def get(self, network_id):
        """The network of this name or id; berth.NotFoundError when there is none."""
        return self._wrap(self.client.network_inspect(network_id))

    def list(self, names=None, ids=None, filters=None, greedy=False):
        """Networks, the default "bridge" included; names and ids select."""
        found = [self.get(n) for n in self.client.network_names()]
        return [n for n in found if (not names or n.name in names) and (not ids or n.id in ids)
                and all(_labels_match(n.attrs.get("Labels") or {}, v) if k == "label" else
                        any(x in (n.name if k == "name" else n.id) for x in v)
                        for k, v in _filters(filters))]

    def prune(self, filters=None):
        """Removes every user network nothing is attached to: {"NetworksDeleted": [names]}."""
        if filters:
            raise _invalid("prune: filters are not supported")
        return {"NetworksDeleted": self.client.networks_prune()}


# ---- into the berth module -----------------------------------------------------

def _install(berth):
    global _berth
    _berth = berth

    class ContainerError(berth.Error):
        """A container that containers.run() ran exited non-zero (docker-py's
        ContainerError): container, exit_status, command, image, stderr (bytes)."""

        def __init__(self, container, exit_status, command, image, stderr):
            self.container, self.exit_status, self.command, self.image, self.stderr = (
                container, exit_status, command, image, stderr)
            err = f": {stderr.decode(errors='replace')}" if stderr else ""
            self.message = f"Command '{command}' in image '{image}' returned non-zero exit status {exit_status}{err}"
            super().__init__(self.message)

    ContainerError.__module__ = "berth"
    classes = [ContainerError, ExecResult, Container, ContainerCollection, Volume, VolumeCollection, Network,
               NetworkCollection]
    for cls in classes:
        cls.__module__ = "berth"
        setattr(berth, cls.__name__, cls)

    # Each access makes a new collection; it holds the context, as ctx.images does.
    berth.Context.containers = property(ContainerCollection, doc="The containers (docker-py's client.containers).")
    berth.Context.volumes = property(VolumeCollection, doc="The volumes (docker-py's client.volumes).")
    berth.Context.networks = property(NetworkCollection, doc="The networks (docker-py's client.networks).")
