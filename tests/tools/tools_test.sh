#!/usr/bin/env bash
# raspc inspect, draw and compile --emit: golden outputs, .onnx against program, bad input.
# Usage: tools_test.sh <raspc> <repo root> <work dir>
# RASPC_UPDATE_GOLDEN=1 rewrites the golden files from the current output instead of comparing
# (the middle end changes layer counts and widths; review the diff before committing).
set -uo pipefail
raspc=$1
root=$2
work=$3
golden="$root/tests/tools/golden"
mkdir -p "$work"
source "$root/tests/checks.sh"

# Paths in the output are as given on the command line: run from the root, like a user would.
cd "$root" || exit 1
version=$("$raspc" --version | sed 's/^raspc //')

# The version is not part of what a golden file pins.
normalise() {
    sed -e "s/(raspc $version)/(raspc VERSION)/" \
        -e "s/\"version\": \"$version\"/\"version\": \"VERSION\"/"
}

# golden <name> -- command...: the command's stdout must equal golden/<name>.
golden() {
    local name=$1
    shift 2
    local actual="$work/$name"
    if ! "$@" 2>"$work/$name.stderr" | normalise >"$actual"; then
        fail "$* exited non-zero: $(cat "$work/$name.stderr")"
        return
    fi
    if [ "${RASPC_UPDATE_GOLDEN:-}" = 1 ]; then
        cp "$actual" "$golden/$name"
        return
    fi
    if [ ! -f "$golden/$name" ]; then
        fail "missing golden file tests/tools/golden/$name (RASPC_UPDATE_GOLDEN=1 makes it)"
        return
    fi
    if ! diff -u "$golden/$name" "$actual" --label "golden/$name" --label "actual"; then
        fail "$* differs from golden/$name (RASPC_UPDATE_GOLDEN=1 rewrites it)"
    fi
}


# Golden outputs.
for sample in reverse histogram; do
    golden "$sample.inspect.txt" -- "$raspc" inspect "samples/$sample.rasp"
    golden "$sample.inspect.json" -- "$raspc" inspect "samples/$sample.rasp" --json
done
golden reverse.ast.txt -- "$raspc" compile samples/reverse.rasp --emit=ast
golden reverse.ir.txt -- "$raspc" compile samples/reverse.rasp --emit=ir
golden reverse.schedule.txt -- "$raspc" compile samples/reverse.rasp --emit=schedule
golden reverse.dot -- "$raspc" draw samples/reverse.rasp -o -

# Inspecting a compiled file shows what inspecting its program shows.
for sample in reverse histogram sort dyck2; do
    model="$work/$sample.onnx"
    "$raspc" compile "samples/$sample.rasp" -o "$model" --force >/dev/null ||
        fail "compile $sample"
    for flag in "" --json; do
        if ! diff <("$raspc" inspect "samples/$sample.rasp" $flag) \
                  <("$raspc" inspect "$model" $flag) >"$work/$sample.onnx.diff"; then
            fail "inspect $flag of $sample.onnx differs from its program:"
            sed 's/^/    /' "$work/$sample.onnx.diff"
        fi
    done
done
expect 0 "position" -- "$raspc" compile samples/sort.rasp --emit=ir-opt

# draw writes an SVG, replaces its own pictures, and leaves other files alone.
svg="$work/reverse.svg"
rm -f "$svg"
expect 0 "" -- "$raspc" draw samples/reverse.rasp -o "$svg"
if ! grep -q "<svg" "$svg" 2>/dev/null || ! grep -q "raspc draw" "$svg"; then
    fail "draw did not write an SVG to $svg"
fi
expect 0 "" -- "$raspc" draw samples/reverse.rasp -o "$svg"
echo "not a picture" >"$work/mine.svg"
expect 1 "pass --force" -- "$raspc" draw samples/reverse.rasp -o "$work/mine.svg"
grep -q "not a picture" "$work/mine.svg" || fail "draw replaced a foreign file without --force"
expect 0 "" -- "$raspc" draw samples/reverse.rasp -o "$work/mine.svg" --force
expect 0 "" -- "$raspc" draw samples/reverse.rasp -o "$work/reverse.dot"
head -n 1 "$work/reverse.dot" | grep -q "raspc draw" || fail "draw -o .dot wrote no DOT"
expect 1 "dot" -- env PATH=/nonexistent "$raspc" draw samples/reverse.rasp -o "$work/nodot.svg"
expect 1 "picture format" -- "$raspc" draw samples/reverse.rasp -o "$work/flow.txt"

# Bad input: a message and exit 1, never a crash.
expect 1 "missing.rasp" -- "$raspc" inspect "$work/missing.rasp"
expect 1 "missing.onnx" -- "$raspc" inspect "$work/missing.onnx"
# A valid ONNX model from another producer: ir_version 8, producer_name "other", an empty
# graph.
printf '\x08\x08\x12\x05other\x3a\x00' >"$work/foreign.onnx"
expect 1 "foreign model" -- "$raspc" inspect "$work/foreign.onnx"
head -c 300 "$work/reverse.onnx" >"$work/truncated.onnx"
expect 1 "error" -- "$raspc" inspect "$work/truncated.onnx"
expect 1 "missing.rasp" -- "$raspc" draw "$work/missing.rasp" -o "$work/missing.svg"
printf 'x = tokens +;\n' >"$work/broken.rasp"
expect 1 "broken.rasp:1:" -- "$raspc" compile "$work/broken.rasp" --emit=ast
expect 1 "broken.rasp:1:" -- "$raspc" inspect "$work/broken.rasp"
expect 2 "" -- "$raspc" compile samples/reverse.rasp --emit=bytecode

if [ "$failures" -ne 0 ]; then
    echo "$failures tools check(s) failed"
    exit 1
fi
echo "tools: all checks passed"
