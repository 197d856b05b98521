#!/bin/sh
# The README's test command: installs what is missing, builds with warnings as
# errors, and runs every test with ctest, independent entries in parallel (the
# unit tests, then one entry per end-to-end file driving the real binaries).
# Environment: LOGFERRY_BUILD_DIR (default build), LOGFERRY_TEST_JOBS (parallel
# ctest entries, default twice the cores: most end-to-end tests wait on I/O),
# LOGFERRY_TEST_SEED (the unit tests' random order; chosen and printed when unset).
# LOGFERRY_RANDOM_SEED replays the random draws of a fault-injecting test file
# (its seed is printed on stderr: tests/support/random_seed.hpp).
# Extra arguments go to ctest, e.g. tests/run.sh -L unit, or -R e2e.rotation.
set -eu
cd "$(dirname "$0")/.."
./tests/install-deps.sh test
build="${LOGFERRY_BUILD_DIR:-build}"
# -g1 (line tables: backtraces name files and lines) instead of -g: full debug
# information is a quarter of the compile time of a file using Asio. A unity
# build of the libraries (the test files are still compiled one by one) parses
# the shared headers once per group of sources: about a quarter less build time.
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLOGFERRY_WERROR=ON \
  -DCMAKE_UNITY_BUILD="${LOGFERRY_UNITY_BUILD:-ON}" \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="${LOGFERRY_CXX_FLAGS:--O2 -g1 -DNDEBUG}"
cmake --build "$build" -j "$(nproc)"
LOGFERRY_TEST_SEED="${LOGFERRY_TEST_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}"
export LOGFERRY_TEST_SEED
echo "random order seed: $LOGFERRY_TEST_SEED (replay: LOGFERRY_TEST_SEED=$LOGFERRY_TEST_SEED tests/run.sh)"
ctest --test-dir "$build" --output-on-failure -j "${LOGFERRY_TEST_JOBS:-$(($(nproc) * 2))}" "$@"
