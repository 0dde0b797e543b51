#!/usr/bin/env bash
# Sets up and builds raspc, compiles samples/sort.rasp to an ONNX model, and runs the model.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
mkdir -p out
build/raspc compile samples/sort.rasp -o out/sort.onnx
build/raspc run out/sort.onnx --input "dcba"
