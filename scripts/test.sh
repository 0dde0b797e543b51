#!/usr/bin/env bash
# Sets up and builds raspc, then runs the whole test suite (unit, golden, differential).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
ctest --test-dir build --output-on-failure -j"$(nproc)" "$@"
