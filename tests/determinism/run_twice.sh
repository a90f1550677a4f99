#!/usr/bin/env bash
# Runs one scenario recorded, then replays the record: exit 0 when the two journals
# are identical (whether or not the scenario's expectations held), 1 otherwise.
#   run_twice.sh <understudy binary> <scenario file>
set -uo pipefail
binary=$1 scenario=$2
work=$(mktemp -d "${TMPDIR:-/tmp}/understudy-determinism-XXXXXX")
trap 'rm -rf "$work"' EXIT
"$binary" run "$scenario" --record "$work/run.journal" >"$work/run.out" 2>&1
code=$?
if [ ! -s "$work/run.journal" ]; then
  echo "the run (exit $code) wrote no record:"; cat "$work/run.out"; exit 1
fi
if ! "$binary" replay "$work/run.journal" >"$work/replay.out" 2>&1; then
  echo "the replay diverged from the recorded run:"
  tail -n 20 "$work/replay.out"
  exit 1
fi
tail -n 1 "$work/replay.out"
