#!/bin/sh
# The README's test command: installs what is missing, builds with warnings as
# errors, and runs every test (unit, then end-to-end with the real binaries).
set -eu
cd "$(dirname "$0")/.."
./tests/install-deps.sh test
build="${LOGFERRY_BUILD_DIR:-build}"
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLOGFERRY_WERROR=ON
cmake --build "$build" -j "$(nproc)"
ctest --test-dir "$build" --output-on-failure
