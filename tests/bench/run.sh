#!/bin/sh
# logferry's end-to-end benchmark in one command (see tests/bench/bench.py):
#   tests/bench/run.sh [--lines N] [--repeat K] [--sidecars S] [--only TEXT]
#                      [--rates 10,100,1000] [--rate-seconds 30] [--low-rate-only] [--no-build]
# Needs python3, socat, and for the charts gnuplot-nox; rsyslog and fluent-bit are run when
# installed; the low-rate scenarios count system calls with perf (linux-perf), else strace.
set -eu
cd "$(dirname "$0")"
export PYTHONDONTWRITEBYTECODE=1
exec python3 bench.py "$@"
