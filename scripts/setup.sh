#!/usr/bin/env bash
# Installs everything understudy's build and tests need from Debian's packages,
# then configures and builds into ./build. Safe to run again.
#
#   ./scripts/setup.sh            # install (as root, or with sudo) and build
#   ./scripts/setup.sh --no-install   # build only
set -euo pipefail
cd "$(dirname "$0")/.."

install=1
for arg in "$@"; do
  case "$arg" in
    --no-install) install=0 ;;
    *) echo "setup.sh: unknown argument '$arg' (expected --no-install)" >&2; exit 2 ;;
  esac
done

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

packages=(
  # build
  build-essential cmake ninja-build pkg-config git
  libboost-dev nlohmann-json3-dev libcpp-httplib-dev libcurl4-openssl-dev libsqlite3-dev libssl-dev
  # tests
  libgtest-dev libgmock-dev googletest python3 curl procps
  # time zones (TZif files) for Scheduler expressions and scheduled scaling actions
  tzdata
  swaks  # SES: SMTP client for the integration tests
  # the Docker runtime: an engine for its tests (scripts/start-dockerd.sh), and busybox
  # for the offline test images (fixtures/images/) and awsvpc pause containers
  docker.io busybox-static
  # the reference set-ups' apps (fixtures/amy, fixtures/convergence, fixtures/uptime):
  # Django under gunicorn with boto3 for SES, and Node
  python3-django gunicorn python3-boto3 nodejs
  iptables iproute2 util-linux  # chaos: network faults in task namespaces (iptables, tc, nsenter)
  # fuzzing (libFuzzer) and formatting
  clang libclang-rt-14-dev clang-format
  # benchmarks: the peers they compare against
  wrk nginx-light haproxy
)

if [ "$install" = 1 ]; then
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
  # Real AWS clients for the integration tests: keep newer ones the machine
  # already has, otherwise take Debian's.
  if ! command -v aws >/dev/null 2>&1; then
    $SUDO apt-get install -y -qq --no-install-recommends awscli >/dev/null
  fi
  if ! python3 -c 'import boto3' >/dev/null 2>&1; then
    $SUDO apt-get install -y -qq --no-install-recommends python3-boto3 >/dev/null
  fi
fi

cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build build
# The Docker runtime's tests need an engine: reuse one that answers, else start dockerd
# (as root). Without root or an engine the docker suite skips (fails under CI=true).
if [ "$(id -u)" -eq 0 ] || [ -S "${DOCKER_HOST:-/nonexistent}" ] || [ -S /var/run/docker.sock ]; then
  ./scripts/start-dockerd.sh || echo "setup.sh: no Docker engine; the docker runtime suite will skip" >&2
fi
echo "setup.sh: built ./build/understudy; run the tests with: ctest --test-dir build --output-on-failure"
