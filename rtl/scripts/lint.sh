#!/usr/bin/env bash
# Verilator lint of the FIFO at several parameter sets (-Wall, no warnings allowed).
set -euo pipefail
src=$1
command -v verilator >/dev/null || { echo "SKIP: verilator is not installed (scripts/install-deps.sh installs it)"; exit 77; }
for p in "2 1" "8 64" "64 128" "4096 64"; do
  set -- $p
  verilator --lint-only -Wall -GDEPTH=$1 -GWIDTH=$2 "$src"
  echo "lint ok: DEPTH=$1 WIDTH=$2"
done
# A bad parameter must stop elaboration with a message that names it.
if out=$(verilator --lint-only -Wall -GDEPTH=6 "$src" 2>&1); then
  echo "FAIL: DEPTH=6 was accepted"; exit 1
fi
grep -q "DEPTH_must_be_a_power_of_two" <<<"$out" || { echo "FAIL: no clear message for DEPTH=6: $out"; exit 1; }
echo "bad DEPTH refused: ok"
