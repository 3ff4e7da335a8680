"""Drive an interactive command on a fresh pseudo-terminal, like expect.

    pty-drive.py [--rows R --cols C] [--timeout S] [--ready REGEX]
                 [--send TEXT] [--expect REGEX]... -- CMD ARG...

CMD runs as a session leader with the pty as its controlling terminal, the
window size set before it starts.  Once REGEX --ready (default: a shell
prompt) shows up in its output, TEXT is typed, then the output is read until
CMD exits.  Exits with CMD's exit status when every --expect REGEX matched
the output, else 1; 2 on a timeout.  The output goes to stdout either way,
so a failing test shows what the terminal showed.
"""

import argparse
import fcntl
import os
import re
import select
import signal
import struct
import sys
import termios
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=24)
    ap.add_argument("--cols", type=int, default=80)
    ap.add_argument("--timeout", type=float, default=30.0)
    ap.add_argument("--ready", default=r"[#$] ")
    ap.add_argument("--send", default="")
    ap.add_argument("--expect", action="append", default=[])
    ap.add_argument("cmd", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    cmd = a.cmd[1:] if a.cmd[:1] == ["--"] else a.cmd
    if not cmd:
        ap.error("no command")

    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", a.rows, a.cols, 0, 0))
    pid = os.fork()
    if pid == 0:
        os.close(master)
        os.setsid()
        fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
        for fd in (0, 1, 2):
            os.dup2(slave, fd)
        if slave > 2:
            os.close(slave)
        try:
            os.execvp(cmd[0], cmd)
        finally:
            os._exit(127)
    os.close(slave)

    out = b""
    sent = not a.send
    ready = re.compile(a.ready.encode(), re.M)
    deadline = time.monotonic() + a.timeout
    timed_out = False
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            timed_out = True
            break
        r, _, _ = select.select([master], [], [], min(left, 0.5))
        if r:
            try:
                chunk = os.read(master, 4096)
            except OSError:  # EIO: every slave side is closed, CMD is gone
                chunk = b""
            if not chunk:
                break
            # A line editor (busybox's) asks where the cursor is; a real
            # terminal would answer, so answer: column 5 of the last row.
            if b"\x1b[6n" in chunk:
                os.write(master, b"\x1b[%d;5R" % a.rows)
            out += chunk
        if not sent and ready.search(out):
            os.write(master, a.send.encode())
            sent = True
    if timed_out:
        os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    os.close(master)

    text = out.decode("utf-8", "replace").replace("\r", "")
    sys.stdout.write(text)
    sys.stdout.write("\n")
    if timed_out:
        print(f"pty-drive: timed out after {a.timeout:g} s (sent: {sent})")
        return 2
    missing = [e for e in a.expect if not re.search(e, text, re.M)]
    for e in missing:
        print(f"pty-drive: no match for {e!r}")
    if missing:
        return 1
    if os.WIFEXITED(status):
        return os.WEXITSTATUS(status)
    return 128 + os.WTERMSIG(status)


if __name__ == "__main__":
    sys.exit(main())
