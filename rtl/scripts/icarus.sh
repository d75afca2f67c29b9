#!/usr/bin/env bash
# Runs the self-checking Icarus testbench (rtl/tests/desc_fifo_tb.v) at one parameter set.
# With "broken" it builds the VNIC_FIFO_BREAK_FULL variant and expects the testbench to fail.
set -euo pipefail
srcdir=$1; outdir=$2; depth=$3; width=$4; mode=${5:-good}
command -v iverilog >/dev/null || { echo "SKIP: iverilog is not installed (scripts/install-deps.sh installs it)"; exit 77; }
defs=()
[[ $mode == broken ]] && defs=(-DVNIC_FIFO_BREAK_FULL)
vvp_file="$outdir/desc_fifo_tb_d${depth}_w${width}_${mode}.vvp"
iverilog -g2005 -Wall "${defs[@]}" -Pdesc_fifo_tb.DEPTH=$depth -Pdesc_fifo_tb.WIDTH=$width \
  -o "$vvp_file" "$srcdir/tests/desc_fifo_tb.v" "$srcdir/desc_fifo.v"
out=$(vvp -n "$vvp_file" 2>&1 || true)
echo "$out" | tail -5
if [[ $mode == broken ]]; then
  grep -q "^FAIL" <<<"$out" || { echo "FAIL: the testbench did not catch the broken full flag"; exit 1; }
  echo "broken variant caught: ok"
else
  grep -q "^PASS" <<<"$out" || exit 1
fi
