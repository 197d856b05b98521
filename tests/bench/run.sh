#!/bin/sh
# logferry's end-to-end benchmark in one command (see tests/bench/bench.py):
#   tests/bench/run.sh [--lines N] [--repeat K] [--sidecars S] [--only TEXT]
# Needs python3, socat, and for the chart gnuplot-nox; rsyslog is run when installed.
set -eu
cd "$(dirname "$0")"
export PYTHONDONTWRITEBYTECODE=1
exec python3 bench.py "$@"
