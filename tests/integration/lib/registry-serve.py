#!/usr/bin/python3
"""Starts a seeded registry for the binding tests (Python's conftest, Lua's
test_images.lua); 127.0.0.1 only.

    registry-serve.py [--port=N] [--prefix=P] DIR TAG:NAME...

Builds the offline test images (registry-mkimage.py) in DIR/layout, starts
Debian's docker-registry on a free port of 127.0.0.1 with its storage and
log in DIR, copies each layout TAG to ADDR/berth-test/NAME:latest (or
ADDR/PNAME with --prefix=P) with
skopeo, and prints "ADDR PID" once it is ready. The registry keeps running:
the caller stops it by that PID (and removes DIR). Exit status 1, with the
reason on stderr and the registry stopped, when any step fails.
"""
import os
import pathlib
import socket
import subprocess
import sys
import time

here = pathlib.Path(__file__).resolve().parent
options = {k: v for k, _, v in (a[2:].partition("=") for a in sys.argv[1:] if a.startswith("--"))}
args = [a for a in sys.argv[1:] if not a.startswith("--")]
base = pathlib.Path(args[0])
seeds = [arg.split(":", 1) for arg in args[1:]]
prefix = options.get("prefix", "berth-test/")  # README's lines name 127.0.0.1:5000/busybox: --prefix=

port = int(options.get("port", 0))  # a fixed port (--port=5000) only in a network namespace of one's own
if not port:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
addr = f"127.0.0.1:{port}"
(base / "storage").mkdir(parents=True, exist_ok=True)
(base / "config.yml").write_text(
    "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\n"
    f"storage:\n  filesystem:\n    rootdirectory: {base}/storage\n  delete:\n    enabled: true\n"
    f"http:\n  addr: {addr}\n  secret: berth-test-binding\n")
with open(base / "log", "wb") as log:
    proc = subprocess.Popen(["docker-registry", "serve", str(base / "config.yml")], stdout=log, stderr=log,
                            stdin=subprocess.DEVNULL, start_new_session=True)
try:
    subprocess.run([sys.executable, str(here / "registry-mkimage.py"), str(base / "layout")], check=True,
                   stdout=subprocess.DEVNULL)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), 1).close()
            break
        except OSError:
            time.sleep(0.1)
    else:
        raise RuntimeError(f"docker-registry did not start: {(base / 'log').read_text()}")
    for tag, name in seeds:
        subprocess.run(["skopeo", "copy", "-q", "--dest-tls-verify=false", f"oci:{base}/layout:{tag}",
                        f"docker://{addr}/{prefix}{name}:latest"], check=True)
except Exception as e:  # noqa: BLE001 - any failure: stop what was started
    proc.kill()
    proc.wait()
    print(f"registry-serve: {e}", file=sys.stderr)
    sys.exit(1)
print(addr, proc.pid, flush=True)
os._exit(0)
