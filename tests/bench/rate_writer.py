#!/usr/bin/env python3
"""The low-rate scenarios' application: appends deterministic JSON lines to a
file at a fixed rate, in writes of --batch lines, then exits.

Generates every line first and prints `ready`; waits for one line on stdin
(the harness's go, sent once it has taken its first snapshot); then issues one
os.write of --batch lines on an absolute schedule (write k at start + k *
batch / rate, so a late write does not delay the next ones), stays until
--seconds have passed since the first write, and prints
`done LINES BYTES MAX_LATE_MS`. The file is opened O_APPEND and never created:
it must exist before the shipper starts.
"""
import argparse
import os
import random
import sys
import time

from benchlib import json_line


def batches(lines: int, batch: int, seed: int) -> list:
    """The lines as bytes, `batch` lines per element."""
    rng = random.Random(f"json-{seed}")
    text = [json_line(rng, i) + "\n" for i in range(lines)]
    return ["".join(text[i:i + batch]).encode() for i in range(0, lines, batch)]


def write_on_schedule(fd: int, chunks: list, interval: float, seconds: float) -> float:
    """Writes chunk k at start + k * interval; returns the latest write's lateness in seconds."""
    start = time.monotonic()
    late = 0.0
    for k, chunk in enumerate(chunks):
        due = start + k * interval
        now = time.monotonic()
        if now < due:
            time.sleep(due - now)
        else:
            late = max(late, now - due)
        os.write(fd, chunk)
    rest = start + seconds - time.monotonic()
    if rest > 0:
        time.sleep(rest)
    return late


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--file", required=True, help="an existing file to append to")
    ap.add_argument("--rate", type=float, required=True, help="lines per second")
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--batch", type=int, default=10, help="lines per write (default 10)")
    ap.add_argument("--seed", type=int, default=8)
    args = ap.parse_args()
    writes = max(1, round(args.rate * args.seconds / args.batch))
    chunks = batches(writes * args.batch, args.batch, args.seed)
    fd = os.open(args.file, os.O_WRONLY | os.O_APPEND)
    print("ready", flush=True)
    if not sys.stdin.readline():
        return 1  # the harness went away
    late = write_on_schedule(fd, chunks, args.batch / args.rate, args.seconds)
    os.close(fd)
    print(f"done {writes * args.batch} {sum(len(c) for c in chunks)} {late * 1000:.1f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
