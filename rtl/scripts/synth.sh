#!/usr/bin/env bash
# Yosys synthesis of the FIFO at depth 16, width 64: must pass `check -assert` with no latches.
set -euo pipefail
src=$1; log=$2
command -v yosys >/dev/null || { echo "SKIP: yosys is not installed (scripts/install-deps.sh installs it)"; exit 77; }
yosys -p "read_verilog $src; chparam -set DEPTH 16 -set WIDTH 64 desc_fifo; synth -top desc_fifo; check -assert; stat" >"$log" 2>&1 \
  || { tail -30 "$log"; echo "FAIL: yosys synthesis failed (log: $log)"; exit 1; }
if grep -qE '\$_DLATCH|\$dlatch' "$log"; then
  grep -E 'DLATCH|dlatch' "$log" | head; echo "FAIL: latches inferred"; exit 1
fi
cells=$(awk '/Number of cells:/ {n=$4} END {print n}' "$log")

echo "synthesis ok: $cells cells, no latches (log: $log)"
