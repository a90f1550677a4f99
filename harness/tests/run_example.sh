#!/usr/bin/env bash
# Configures, builds and runs the harness example project against this build.
#   run_example.sh build-tree|installed <example source dir> <understudy build dir>
# build-tree: find_package(understudy) finds <build>/understudyConfig.cmake.
# installed:  `cmake --install <build> --component harness` into a fresh prefix first,
#             and the example finds <prefix>/lib/cmake/understudy.
set -euo pipefail
mode=$1 source=$2 build=$3
work=$(mktemp -d "${TMPDIR:-/tmp}/understudy-example-XXXXXX")
trap 'rm -rf "$work"' EXIT
case "$mode" in
  build-tree) package_dir=$build ;;
  installed)
    cmake --install "$build" --component harness --prefix "$work/prefix" >/dev/null
    package_dir=$work/prefix/lib/cmake/understudy
    test -f "$package_dir/understudyConfig.cmake"
    test -x "$work/prefix/bin/understudy" ;;
  *) echo "usage: $0 build-tree|installed SOURCE BUILD" >&2; exit 2 ;;
esac
launcher=()
if command -v ccache >/dev/null; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
cmake -S "$source" -B "$work/build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -Dunderstudy_DIR="$package_dir" "${launcher[@]}"
ninja -C "$work/build" -j1
# The example must use the package's binary: nothing from this environment.
env -u UNDERSTUDY_BINARY -u UNDERSTUDY_FIXTURE_APP \
  ctest --test-dir "$work/build" --output-on-failure
if [ "$mode" = installed ]; then
  # Its tests started the installed binary, not the build tree's.
  grep -q "$work/prefix/bin/understudy" "$work/build/CMakeCache.txt" ||
    grep -rq "$work/prefix/bin/understudy" "$work/build/build.ninja"
fi
echo "example project ($mode): built and passed"
