#!/bin/sh
# Installs what building and testing logferry needs, from Debian 12's archive.
# Usage: tests/install-deps.sh [build|test]   (default: test, which includes build)
set -eu
what="${1:-test}"
build_pkgs="build-essential cmake ninja-build pkg-config ca-certificates
  libboost1.81-dev libfmt-dev libprotobuf-dev protobuf-compiler
  libsimdjson-dev libre2-dev libzstd-dev libsnappy-dev libssl-dev zlib1g-dev"
# Tests also drive real programs: logrotate, openssl (test certificates), socat,
# clang 16 (libFuzzer; clang 14 cannot compile coroutines with the sanitizers), podman/buildah/runc/debootstrap (the container image test).
test_pkgs="catch2 logrotate openssl socat procps clang-16 libclang-rt-16-dev
  podman buildah runc debootstrap uidmap python3"
pkgs="$build_pkgs"
[ "$what" = "test" ] && pkgs="$pkgs $test_pkgs"
missing=""
for p in $pkgs; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "missing packages:$missing (run as root to install them)" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  # shellcheck disable=SC2086
  apt-get install -y -q --no-install-recommends $missing
fi
