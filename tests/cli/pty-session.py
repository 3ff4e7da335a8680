#!/usr/bin/python3
"""Drives a command on a real pseudo-terminal, as a user at a keyboard.

    pty-session.py [--rows R --cols C] STEP... -- COMMAND [ARG...]

Steps, in order: expect:REGEX (wait for the output to match, 15 s at
most), send:TEXT (Python escapes: \\r, \\x10), resize:ROWS:COLS (and
SIGWINCH to the command, as a terminal does), sleep:SECONDS. After the steps
it waits (20 s at most) for the command to end, prints everything it wrote
and exits with its status; 124 when anything timed out (the command is then
killed). The terminal's modes after the end are printed to stderr as
"tty-modes-restored: yes|no" so raw mode left behind shows."""
import fcntl
import os
import pty
import re
import select
import signal
import struct
import sys
import termios
import time

def set_size(fd, rows, cols):
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))

def read_some(fd, out, timeout):
    r, _, _ = select.select([fd], [], [], timeout)
    if not r:
        return True
    try:
        data = os.read(fd, 65536)
    except OSError:
        return False
    if not data:
        return False
    out.extend(data)
    return True

def main():
    args = sys.argv[1:]
    rows, cols = 24, 80
    if args[:1] == ["--rows"]:
        rows, cols = int(args[1]), int(args[3])
        args = args[4:]
    sep = args.index("--")
    steps, command = args[:sep], args[sep + 1:]
    pid, master = pty.fork()
    if pid == 0:
        os.execvp(command[0], command)
    set_size(master, rows, cols)
    # the terminal's modes as the command found them (the master reads
    # the slave's), to compare once it ended
    modes_before = termios.tcgetattr(master)[3] & (termios.ICANON | termios.ECHO)
    out = bytearray()
    status = None
    try:
        for step in steps:
            kind, _, arg = step.partition(":")
            if kind == "expect":
                deadline = time.monotonic() + 15
                while not re.search(arg.encode(), out):
                    if time.monotonic() > deadline or not read_some(master, out, 0.2):
                        if not re.search(arg.encode(), out):
                            raise TimeoutError("expected %r" % arg)
            elif kind == "send":
                os.write(master, arg.encode().decode("unicode_escape").encode("latin-1"))
            elif kind == "resize":
                r, c = arg.split(":")
                set_size(master, int(r), int(c))
                os.kill(pid, signal.SIGWINCH)
            elif kind == "sleep":
                end = time.monotonic() + float(arg)
                while time.monotonic() < end:
                    read_some(master, out, end - time.monotonic())
        deadline = time.monotonic() + 20
        while status is None:
            done, st = os.waitpid(pid, os.WNOHANG)
            if done:
                status = os.waitstatus_to_exitcode(st)
                break
            if time.monotonic() > deadline:
                raise TimeoutError("the command did not end")
            read_some(master, out, 0.1)
        while read_some(master, out, 0.1) and select.select([master], [], [], 0)[0]:
            pass
    except TimeoutError as e:
        print("pty-session: %s; output so far: %r" % (e, bytes(out)), file=sys.stderr)
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        sys.stdout.write(out.decode("utf-8", "replace"))
        sys.exit(124)
    modes_after = termios.tcgetattr(master)[3] & (termios.ICANON | termios.ECHO)
    print("tty-modes-restored: %s" % ("yes" if modes_after == modes_before else "no"), file=sys.stderr)
    sys.stdout.write(out.decode("utf-8", "replace"))
    sys.exit(status if status >= 0 else 128 - status)

main()
