#!/usr/bin/env bash
# The raspc command as a user meets it: the README's example, reference outputs, and bad input
# of every kind (each must exit non-zero with a clear message, never crash).
# Usage: cli_test.sh <raspc> <repo root> <work dir>
set -uo pipefail
raspc=$1
root=$2
work=$3
mkdir -p "$work"
failures=0

# expect <exit code> <text that must appear in stdout+stderr> -- command...
expect() {
    local code=$1 text=$2
    shift 3
    local out status
    out=$("$@" 2>&1)
    status=$?
    if [ "$status" -ne "$code" ] || [[ "$out" != *"$text"* ]]; then
        echo "FAIL: $* -> exit $status (want $code), output:"
        echo "$out" | sed 's/^/    /'
        echo "    (wanted to see: $text)"
        failures=$((failures + 1))
    fi
}

# The README's promise.
expect 0 "[a, b, c, d]" -- "$raspc" run "$root/samples/sort.rasp" --input dcba
"$raspc" compile "$root/samples/sort.rasp" -o "$work/sort.onnx" --force >/dev/null
expect 0 'sort("dcba") = [a, b, c, d] (strings)' -- "$raspc" run "$work/sort.onnx" --input dcba

# Reference outputs from LANGUAGE.md, through the interpreter and the runner.
expect 0 "[o, l, l, e, h]" -- "$raspc" eval "$root/samples/reverse.rasp" --input hello
expect 0 "[o, l, l, e, h]" -- "$raspc" run "$root/samples/reverse.rasp" --input hello
expect 0 "[1, 1, 2, 2, 1]" -- "$raspc" run "$root/samples/histogram.rasp" --input hello
expect 0 "[P, P, P, T, F, F]" -- "$raspc" run "$root/samples/dyck1.rasp" --input "(()))("
expect 0 "[P, P, F, F]" -- "$raspc" run "$root/samples/dyck2.rasp" --input "({)}"
expect 0 "[5]*5" -- "$raspc" eval "$root/samples/length.rasp" --input abcab

# A syntax error: file:line:col, the line, a caret; exit 1.
printf 'x = tokens +;\ny = 3\n' > "$work/broken.rasp"
expect 1 "broken.rasp:1:" -- "$raspc" eval "$work/broken.rasp" --input a
expect 1 "^" -- "$raspc" compile "$work/broken.rasp" -o "$work/broken.onnx"

# Inputs outside the alphabet or longer than the maximum.
expect 1 "unknown token 'z' at position 2" -- "$raspc" run "$work/sort.onnx" --input abz
expect 1 "more than" -- "$raspc" run "$work/sort.onnx" --input abcdabcdabcd
expect 1 "not in the alphabet" -- "$raspc" eval "$root/samples/sort.rasp" --input abz
expect 1 "more than the maximum length" -- "$raspc" eval "$root/samples/sort.rasp" --input abcdabcdabcd

# Corrupt and foreign model files.
head -c 300 "$work/sort.onnx" > "$work/truncated.onnx"
expect 1 "error" -- "$raspc" run "$work/truncated.onnx" --input abc
head -c 2000 /dev/urandom > "$work/random.onnx"
expect 1 "error" -- "$raspc" run "$work/random.onnx" --input abc
if /usr/bin/python3 -c "import onnx" 2>/dev/null; then
    /usr/bin/python3 - "$work/foreign.onnx" <<'PY'
import sys
import onnx
from onnx import helper, TensorProto
x = helper.make_tensor_value_info("tokens", TensorProto.INT64, [1, 3])
y = helper.make_tensor_value_info("y", TensorProto.INT64, [1, 3])
g = helper.make_graph([helper.make_node("Identity", ["tokens"], ["y"])], "foreign", [x], [y])
onnx.save(helper.make_model(g, producer_name="someone-else"), sys.argv[1])
PY
    expect 1 "foreign" -- "$raspc" run "$work/foreign.onnx" --input abc
fi
expect 1 "error" -- "$raspc" run "$work/missing.onnx" --input abc
expect 1 "missing.rasp" -- "$raspc" compile "$work/missing.rasp"
expect 1 "missing.rasp" -- "$raspc" eval "$work/missing.rasp" --input abc

# Nothing the user wrote is overwritten without being asked.
cp "$root/samples/sort.rasp" "$work/precious.rasp"
echo "not a model" > "$work/notes.onnx"
expect 1 "not a raspc model" -- "$raspc" compile "$work/precious.rasp" -o "$work/notes.onnx"
expect 0 "not a model" -- cat "$work/notes.onnx"
expect 1 "its own source" -- "$raspc" compile "$work/precious.rasp" -o "$work/precious.rasp"
expect 0 "sort(tokens, tokens)" -- cat "$work/precious.rasp"

# Generation: the decoder's tokens follow the recurrence, and the interpreter on the whole
# trace predicts each next token the decoder appended.
expected="1 1"
a=1
b=1
for _ in $(seq 62); do
    c=$(((a + b) % 3))
    expected="$expected $c"
    a=$b
    b=$c
done
expect 0 "$expected" -- "$raspc" run "$root/samples/fibonacci_mod3.rasp" --generate --input "1 1" \
    --max-steps 100
expect 0 "$expected" -- "$raspc" run "$root/samples/fibonacci_mod3.rasp" --generate --input "1 1" \
    --max-steps 100 --attention=scan
expect 2 "attention" -- "$raspc" run "$root/samples/fibonacci_mod3.rasp" --generate --input "1 1" \
    --attention=fast
trace=$("$raspc" run "$root/samples/fibonacci_mod3.rasp" --generate --input "1 1" --max-steps 62)
shifted="${trace#* } 0"
predicted=$("$raspc" eval "$root/samples/fibonacci_mod3.rasp" --input "$trace" --json |
            node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>
                console.log(JSON.parse(s).outputs.fibonacci_mod3.join(" ")))')
if [ "${predicted% *}" != "${shifted% *}" ]; then
    echo "FAIL: interpreter's next tokens differ from the generated trace"
    echo "    trace:     $trace"
    echo "    predicted: $predicted"
    failures=$((failures + 1))
fi
expect 1 "not causal" -- "$raspc" run "$root/samples/reverse.rasp" --generate --input ab
expect 0 '"stopped":"stop token"' -- "$raspc" run "$root/samples/fibonacci_mod3.rasp" --generate \
    --input "1 1" --stop 0 --json

# A categorical mean of different values is an error in the runner as in the interpreter,
# also where one value holds three of four keys (a score margin of 0.5 over the next).
cat > "$work/catmean.rasp" <<'EOF'
vocab "ab";
max_len 8;
v = "a" if indices == 5 else "b";
catmean = aggregate(select(tokens, "a", ==), v, "b");
EOF
expect 1 "averages 4 different non-numeric values" -- \
    "$raspc" eval "$work/catmean.rasp" --input ababaa
expect 1 "output 'catmean' at position 0 is ambiguous" -- \
    "$raspc" run "$work/catmean.rasp" --input ababaa
expect 0 "[b]*5" -- "$raspc" run "$work/catmean.rasp" --input ababb
# Generation meets it like a plain run: exit 1, at the position where it happens.
cat > "$work/catgen.rasp" <<'EOF'
vocab "ab";
max_len 8;
causal;
v = "a" if indices == 0 else "b";
nxt = aggregate(select(tokens, "a", ==), v, "b");
EOF
expect 1 "output 'nxt' at position 1 is ambiguous" -- "$raspc" run "$work/catgen.rasp" --input aa
expect 1 "stopped after 0 tokens: output 'nxt' at position 1 is ambiguous" -- \
    "$raspc" run "$work/catgen.rasp" --input aa --generate
expect 1 "stopped after 1 tokens: output 'nxt' at position 2 is ambiguous" -- \
    "$raspc" run "$work/catgen.rasp" --input ab --generate

# --causal on a program that looks ahead warns at the selector, and both sides still agree.
expect 0 "reverse.rasp:7:8: warning: this selector can pick later positions" -- \
    "$raspc" run "$root/samples/reverse.rasp" --causal --input hello
expect 0 "[h]*5" -- "$raspc" eval "$root/samples/reverse.rasp" --causal --input hello
expect 0 "verified" -- "$raspc" verify "$root/samples/reverse.rasp" --causal

# Usage errors exit 2.
expect 2 "" -- "$raspc" compile
expect 2 "" -- "$raspc" frobnicate

# Long programs (max_len above 2048): what they cannot compile is said where it is.
long() {  # long <name> <statements>: a causal program over "ab" of max_len 5000
    printf 'causal;\nvocab "ab";\nmax_len 5000;\n%s\n' "$2" > "$work/$1.rasp"
}
long long_lt 'x = aggregate(select(indices, indices, <), tokens, "a");'
expect 1 "long_lt.rasp:4:5: error: with max_len above 2048, a select must be one equality" -- \
    "$raspc" compile "$work/long_lt.rasp" -o "$work/long_lt.onnx"
long long_width 'w = selector_width(select(tokens, tokens, ==));'
expect 1 "long_width.rasp:4:" -- "$raspc" compile "$work/long_width.rasp" -o "$work/long_width.onnx"
long long_square 'x = indices * indices;'
expect 1 "too many values to tabulate" -- \
    "$raspc" compile "$work/long_square.rasp" -o "$work/long_square.onnx"
long long_half 'x = aggregate(select(indices, indices / 2, ==), tokens, "a");'
expect 1 "long_half.rasp:4:" -- "$raspc" compile "$work/long_half.rasp" -o "$work/long_half.onnx"
long long_keys 'p = aggregate(select(tokens, "a", ==), indices, 0, "latest");
x = aggregate(select(p, indices, ==), tokens, "a");'
expect 1 "lookup needs their square" -- \
    "$raspc" compile "$work/long_keys.rasp" -o "$work/long_keys.onnx"
long long_huge 'p = aggregate(select(indices, indices - 1, ==), indices, 0, "latest");
x = p * 10000000000000 < indices * 10000000000000;'
expect 1 "long_huge.rasp:5:" -- "$raspc" compile "$work/long_huge.rasp" -o "$work/long_huge.onnx"
# Gates multiply bounds too: a choice and a lookup's default are held to the same limits.
long long_choose_huge 'p = aggregate(select(tokens, "a", ==), indices, -1, "latest");
x = p * 10000000000000 if tokens == "b" else 0;'
expect 1 "long_choose_huge.rasp:5:5: error: 'x ($work/long_choose_huge.rasp:5)' chooses" -- \
    "$raspc" compile "$work/long_choose_huge.rasp" -o "$work/long_choose_huge.onnx"
long long_choose_big 'p = aggregate(select(tokens, "a", ==), indices, -1, "latest");
x = p * 1000 if tokens == "b" else 7;'
expect 0 "float64 ('x ($work/long_choose_big.rasp:5)' chooses between numbers past" -- \
    "$raspc" compile "$work/long_choose_big.rasp" -o "$work/long_choose_big.onnx"
expect 0 "[7, 0, 7, 7, 3000, 3000, 3000, 7]" -- \
    "$raspc" run "$work/long_choose_big.onnx" --input abaabbba
expect 0 "[7, 0, 7, 7, 3000, 3000, 3000, 7]" -- \
    "$raspc" eval "$work/long_choose_big.rasp" --input abaabbba
long long_gate_huge 'x = aggregate(select(indices, indices - 1, ==), indices * 1000000000, 0, "latest");'
expect 1 "long_gate_huge.rasp:4:5: error: 'x ($work/long_gate_huge.rasp:4)' gates the" -- \
    "$raspc" compile "$work/long_gate_huge.rasp" -o "$work/long_gate_huge.onnx"
long long_ok 'x = aggregate(select(tokens, "a", ==), indices, -1, "latest");'
# A latest-lookup over 5000 positions fits float32; squaring positions does not.
expect 0 "float32" -- "$raspc" compile "$work/long_ok.rasp" -o "$work/long_ok.onnx"
long long_prev 'x = aggregate(select(indices, indices - 1, ==), tokens, "-");'
expect 0 "long_prev.rasp:4)' squares numbers up to 4999" -- \
    "$raspc" compile "$work/long_prev.rasp" -o "$work/long_prev.onnx"
expect 0 "[-, b, a, b]" -- "$raspc" run "$work/long_prev.onnx" --input baba
expect 0 "[-1, 1, 1, 3]" -- "$raspc" run "$work/long_ok.onnx" --input baba
expect 0 "[-1, 1, 1, 3]" -- "$raspc" run "$work/long_ok.onnx" --input baba --attention=scan

# The generating samples made short: per-position value sets give up past their work budget
# (keeping a range), so these finish in seconds, compiled or refused where the problem is.
expect 0 "a range instead" -- env RASPC_DEBUG=value_sets \
    "$raspc" compile "$root/samples/binary_counter.rasp" --max-len 200 --emit=ir-opt
expect 1 "binary_counter.rasp:35:18: error" -- \
    "$raspc" compile "$root/samples/binary_counter.rasp" --max-len 1000 -o "$work/bc.onnx"
expect 0 "5 layers" -- \
    "$raspc" compile "$root/samples/counter_machine.rasp" --max-len 200 -o "$work/cm.onnx"

if [ "$failures" -ne 0 ]; then
    echo "$failures CLI checks failed"
    exit 1
fi
echo "all CLI checks passed"
