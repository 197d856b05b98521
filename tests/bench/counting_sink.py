#!/usr/bin/env python3
"""A TCP listener on 127.0.0.1 that counts the bytes and newlines it receives.

The baselines' receiver (cat | socat, rsyslog): the benchmark's "aggregator"
for senders that speak plain newline-delimited text. Prints `port N` once
listening, then `done LINES BYTES T` when --expect lines have arrived (T is
time.monotonic(), the system-wide CLOCK_MONOTONIC, so the harness can compare
it with its own start time) or, without --expect, when the first connection
closes.
"""
import argparse
import socket
import sys
import threading
import time


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--expect", type=int, default=0, help="report once this many lines arrived")
    args = ap.parse_args()

    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen(128)
    print(f"port {srv.getsockname()[1]}", flush=True)

    lock = threading.Lock()
    totals = {"lines": 0, "bytes": 0, "reported": False}

    def report() -> None:
        if not totals["reported"]:
            totals["reported"] = True
            print(f"done {totals['lines']} {totals['bytes']} {time.monotonic():.6f}", flush=True)

    def serve(conn: socket.socket) -> None:
        buf = bytearray(1 << 20)
        view = memoryview(buf)
        while True:
            n = conn.recv_into(view)
            if n == 0:
                break
            lines = buf.count(b"\n", 0, n)
            with lock:
                totals["lines"] += lines
                totals["bytes"] += n
                if args.expect and totals["lines"] >= args.expect:
                    report()
        conn.close()
        with lock:
            if not args.expect:
                report()

    while True:
        conn, _ = srv.accept()
        threading.Thread(target=serve, args=(conn,), daemon=True).start()


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(0)
