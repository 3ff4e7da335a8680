#!/usr/bin/python3
"""A small orchestrator on berth: keeps N workers of an image running,
restarts the ones that exit, and prints their logs as they come.

    orchestrator.py --root DIR --runroot DIR --image REF [--workers N]
                    [--restarts K] [--interval S] [-- CMD...]

Pulls the image first (with a progress line per layer), then starts
workers named <prefix>-1..N. Each round it prints what each worker logged
since the last round; a worker that has exited is reported with its exit
code, removed and started again. After K restarts in all (default: run
until interrupted) every worker is removed.
"""
import argparse
import sys
import time

import berth


class Worker:
    """One worker container (a berth.Container once started) and how much
    of its log was printed."""

    def __init__(self, ctx, name, image, command):
        self.ctx, self.name, self.image, self.command = ctx, name, image, command
        self.container, self.printed = None, 0

    def start(self):
        self.container = self.ctx.containers.run(self.image, self.command, name=self.name, detach=True)
        self.printed = 0

    def print_logs(self):
        lines = self.container.logs().decode(errors="replace").splitlines()
        for line in lines[self.printed:]:
            print(f"[{self.name}] {line}", flush=True)
        self.printed = len(lines)

    def running(self):
        self.container.reload()
        return self.container.status == "running"

    def restart(self):
        code = self.container.wait(timeout=10)["StatusCode"]
        self.print_logs()
        print(f"[{self.name}] exited with {code}; starting it again", flush=True)
        self.remove()
        self.start()

    def remove(self):
        if self.container:
            self.container.remove(force=True)
            self.container = None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--root")
    ap.add_argument("--runroot")
    ap.add_argument("--image", required=True)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--restarts", type=int, default=0, help="stop after this many restarts (0: never)")
    ap.add_argument("--interval", type=float, default=0.2)
    ap.add_argument("--prefix", default="worker")
    ap.add_argument("command", nargs="*", default=["sh", "-c", "echo started on $(hostname); sleep 1"])
    args = ap.parse_args()

    with berth.Context(args.root, runroot=args.runroot) as ctx:
        def progress(stage, digest, done, total):
            if stage in ("layer_done", "exists"):
                print(f"pull: {digest[:19]} {stage}", flush=True)
        img = ctx.images.pull(args.image, progress=progress)
        print(f"pull: {img.tags[0]} is {img.short_id}", flush=True)
        workers = [Worker(ctx, f"{args.prefix}-{i + 1}", args.image, args.command) for i in range(args.workers)]
        restarts = 0
        try:
            for w in workers:
                w.start()
            while not args.restarts or restarts < args.restarts:
                time.sleep(args.interval)
                for w in workers:
                    w.print_logs()
                    if not w.running():
                        w.restart()
                        restarts += 1
            print(f"done: {restarts} restarts", flush=True)
        except KeyboardInterrupt:
            pass
        finally:
            for w in workers:
                w.remove()
    return 0


if __name__ == "__main__":
    sys.exit(main())
