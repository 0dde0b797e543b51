#!/usr/bin/env bash
# Long-trace decoding benchmark: builds what it needs, compiles the three generating samples,
# and runs raspc_bench_decode on each for 1,000,000 tokens, checking every trace against
# trace_reference. Writes bench/decode.md. Usage: bash bench/decode.sh [BUILD_DIR] [extra args]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
shift || true
cmake --build "$build" --target raspc raspc_bench_decode trace_reference -j2
models=$(mktemp -d)
trap 'rm -rf "$models"' EXIT
for sample in binary_counter counter_machine cellular_automaton; do
    "$build/raspc" compile "samples/$sample.rasp" -o "$models/$sample.onnx" > /dev/null
done
# The prompts: the counter from 0, the machine's base-64 odometer (its header explains it),
# rule 110 from one live cell.
odometer="0 510 0 1 530 3 2 540 0 3 511 0 4 531 6 5 540 0 6 512 0 7 532 9 8 540 0 9 513 0 10 533 12"
odometer="$odometer 11 540 0 12 500 0 600"
"$build/bench/raspc_bench_decode" --reference "$build/tests/e2e/trace_reference" \
    --case binary_counter "$models/binary_counter.onnx" "0;" \
    --case counter_machine "$models/counter_machine.onnx" "$odometer" \
    --case cellular_automaton "$models/cellular_automaton.onnx" "...............................#|" \
    "$@"
