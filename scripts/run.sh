#!/usr/bin/env bash
# One command: install what is missing, build (preset "default"), run the embedded default scenario.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/install-deps.sh
cmake --preset default >/dev/null
cmake --build --preset default --target vnic
exec ./build/default/testbench/vnic run "$@"
