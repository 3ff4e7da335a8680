"""The receiving end of an OCI runtime's --console-socket.

    console-socket.py SOCKET_PATH OUTPUT_FILE [--send TEXT]

Listens on SOCKET_PATH (which must not exist), takes the one pty master the
runtime sends over SCM_RIGHTS, types TEXT into it if given, and copies what
the container writes to OUTPUT_FILE until its last slave closes after
some output (or 30 seconds pass).  Prints
"ready" on stdout once listening, so the caller can start the runtime.
Exits 0 when a descriptor came and was a terminal, 1 otherwise; gives up
after 30 seconds.
"""

import array
import os
import select
import socket
import sys
import time


def main():
    path, out_path = sys.argv[1], sys.argv[2]
    send = sys.argv[4] if len(sys.argv) > 4 and sys.argv[3] == "--send" else ""
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(1)
    print("ready", flush=True)
    srv.settimeout(30)
    conn, _ = srv.accept()
    fds = array.array("i")
    msg, anc, _, _ = conn.recvmsg(4096, socket.CMSG_SPACE(4 * fds.itemsize))
    for level, kind, data in anc:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(data[: len(data) - (len(data) % fds.itemsize)])
    conn.close()
    srv.close()
    if not fds:
        print("console-socket: no descriptor received", file=sys.stderr)
        return 1
    master = fds[0]
    if not os.isatty(master):
        print("console-socket: the descriptor is not a terminal", file=sys.stderr)
        return 1
    if send:
        os.write(master, send.encode())
    out = b""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        r, _, _ = select.select([master], [], [], 0.5)
        if not r:
            continue
        try:
            chunk = os.read(master, 4096)
        except OSError:
            # EIO: no slave is open.  Before any output that can mean the
            # container has not opened its side yet (a runtime may open it
            # in the container's own devpts), so wait; after, it is the end.
            if out:
                break
            time.sleep(0.05)
            continue
        if not chunk:
            break
        out += chunk
    with open(out_path, "wb") as f:
        f.write(out.replace(b"\r", b""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
