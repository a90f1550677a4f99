#!/usr/bin/env bash
# Source lint run by ctest: time comes only from core's Clock, text is clean, and
# C++ is clang-formatted. Prints every offence; exits 1 if there is any.
set -uo pipefail
cd "$(dirname "$0")/../.."
status=0

# 1. Nothing outside emulator/core reads the system clock (docs/style.md); the harness,
#    a client over HTTP, reads real time in one place for real-world limits.
if hits=$(grep -rnE '(system_clock|steady_clock|high_resolution_clock)::now|[^a-z_]time\(nullptr\)|gettimeofday|clock_gettime' \
    --include='*.cc' --include='*.h' --include='*.cpp' emulator harness |
    grep -v -e '^emulator/core/' -e '^harness/src/real_time.h:'); then
  echo "lint: the system clock is read outside emulator/core and harness/src/real_time.h (use Clock):"
  echo "$hits"
  status=1
fi

# 2. Text: newline at end of file, no CRLF, no trailing blanks.
files=$(git ls-files -co --exclude-standard -- '*.cc' '*.h' '*.cpp' '*.py' '*.sh' '*.cmake' 'CMakeLists.txt' '*.md' '*.lua' 2>/dev/null || true)
for f in $files; do
  [ -f "$f" ] || continue
  if [ -s "$f" ] && [ "$(tail -c1 "$f" | od -An -c | tr -d ' ')" != '\n' ]; then
    echo "lint: $f: no newline at end of file"; status=1
  fi
  if grep -q $'\r' "$f"; then echo "lint: $f: CRLF line endings"; status=1; fi
  if grep -nE '[[:blank:]]+$' "$f" >/dev/null; then
    echo "lint: $f: trailing blanks on lines $(grep -nE '[[:blank:]]+$' "$f" | cut -d: -f1 | head -5 | tr '\n' ' ')"
    status=1
  fi
done

# 3. clang-format, when installed.
if command -v clang-format >/dev/null 2>&1; then
  cxx=$(echo "$files" | tr ' ' '\n' | grep -E '\.(cc|h|cpp)$' || true)
  if [ -n "$cxx" ] && ! out=$(clang-format --dry-run -Werror $cxx 2>&1); then
    echo "lint: not clang-formatted (run: clang-format -i <file>):"
    echo "$out" | grep -E '^[^ ].*: error' | cut -d: -f1 | sort -u
    status=1
  fi
fi

[ $status -eq 0 ] && echo "lint: clean"
exit $status
