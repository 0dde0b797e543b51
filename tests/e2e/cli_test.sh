#!/usr/bin/env bash
# The raspc command as a user meets it: the README's example, reference outputs, and bad input
# of every kind (each must exit non-zero with a clear message, never crash).
# Usage: cli_test.sh <raspc> <repo root> <work dir>
set -uo pipefail
raspc=$1
root=$2
work=$3
mkdir -p "$work"
source "$root/tests/checks.sh"

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
# Position masks in a causal program: the decoder's strategies and its scan write the same
# trace, which the interpreter predicts token by token; inspect names each head's mask.
masks="$root/tests/e2e/language/causal_masks.rasp"
mask_trace=$("$raspc" run "$masks" --generate --input 1 --max-steps 39)
expect 0 "$mask_trace" -- "$raspc" run "$masks" --generate --input 1 --max-steps 39 \
    --attention=scan
mask_predicted=$("$raspc" eval "$masks" --input "$mask_trace" --json |
                 node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>
                     console.log(JSON.parse(s).outputs.next.join(" ")))')
if [ "${mask_predicted% *}" != "${mask_trace#* }" ] || [ "${#mask_trace}" -ne 79 ]; then
    echo "FAIL: interpreter's next tokens differ from the masked program's generated trace"
    echo "    trace:     $mask_trace"
    echo "    predicted: $mask_predicted"
    failures=$((failures + 1))
fi
"$raspc" compile "$masks" -o "$work/causal_masks.onnx" --force >/dev/null
expect 0 "mask key < query, scan" -- "$raspc" inspect "$work/causal_masks.onnx"
expect 0 "mask key <= query, running sum" -- "$raspc" inspect "$work/causal_masks.onnx"
expect 0 '"mask": ">="' -- "$raspc" inspect "$work/causal_masks.onnx" --json
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
expect 1 "the prompt: output 'nxt' at position 1 is ambiguous" -- \
    "$raspc" run "$work/catgen.rasp" --input aa --generate
expect 1 "stopped after 1 token: output 'nxt' at position 2 is ambiguous" -- \
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

# selector_width and length past max_len 300: located at the expression that reads them,
# worded for the scheme the length selects (float32 tables, or long traces in float64).
printf 'vocab "ab";\nmax_len 400;\nx = length + indices;\n' > "$work/length_400.rasp"
expect 1 "length_400.rasp:3:12: error: length compiles up to max_len 300, not 400" -- \
    "$raspc" compile "$work/length_400.rasp" -o "$work/length_400.onnx"
long long_length 'x = length + indices;'
expect 1 "long_length.rasp:4:12: error: length cannot compile with max_len 5000" -- \
    "$raspc" compile "$work/long_length.rasp" -o "$work/long_length.onnx"
refute "float32" -- "$raspc" compile "$work/long_length.rasp" -o "$work/long_length.onnx"
refute "exact at in" -- "$raspc" compile "$work/length_400.rasp" -o "$work/length_400.onnx"
# A mean of several positions cannot be an output there; round() would not help.
long long_mean 'm = numerical(aggregate(select(tokens, "a", ==), indices, 0));'
expect 1 "long_mean.rasp:4:15: error: output 'm' is numerical" -- \
    "$raspc" compile "$work/long_mean.rasp" -o "$work/long_mean.onnx"
refute "round()" -- "$raspc" compile "$work/long_mean.rasp" -o "$work/long_mean.onnx"
# -O0 keeps counter_machine's map chain apart: a table too large, said where and why.
expect 1 "counter_machine.rasp:69:35: error:" -- \
    "$raspc" compile "$root/samples/counter_machine.rasp" -O0 -o "$work/cm0.onnx"
expect 1 "compile without -O0" -- \
    "$raspc" compile "$root/samples/counter_machine.rasp" -O0 -o "$work/cm0.onnx"

# --stop: one token of the vocabulary, read as inputs are.
expect 2 "is not in the model's vocabulary: 0 1 2" -- "$raspc" run \
    "$root/samples/fibonacci_mod3.rasp" --generate --input "1 1" --stop 7
expect 2 "--stop takes one token" -- "$raspc" run "$root/samples/fibonacci_mod3.rasp" \
    --generate --input "1 1" --stop "1 2"
expect 0 '"generated":["2"],"input":"1 1","stopped":"stop token"' -- "$raspc" run \
    "$root/samples/fibonacci_mod3.rasp" --generate --input "1 1" --stop 02 --json
expect 0 '"11","700"],"input"' -- "$raspc" run "$root/samples/counter_machine.rasp" --generate \
    --stop 0700 --max-steps 3000 --json

# Usage errors found once the command runs exit 2 as well.
printf '1 1\n1 2\n' > "$work/two_prompts.txt"
expect 2 "--generate takes one prompt, not 2" -- "$raspc" run \
    "$root/samples/fibonacci_mod3.rasp" --generate --inputs-file "$work/two_prompts.txt"
expect 2 "apply when compiling" -- "$raspc" run "$work/sort.onnx" --max-len 4 --input abc
expect 2 "apply when compiling" -- "$raspc" inspect "$work/sort.onnx" --max-len 4
expect 2 "--stop requires --generate" -- "$raspc" run "$root/samples/reverse.rasp" --input ab \
    --stop a
expect 2 "--max-steps requires --generate" -- "$raspc" run "$root/samples/reverse.rasp" \
    --input ab --max-steps 3
expect 2 "--attention requires --generate" -- "$raspc" run "$root/samples/reverse.rasp" \
    --input ab --attention scan
expect 2 "--max-steps: must be a whole number from 1" -- "$raspc" run \
    "$root/samples/fibonacci_mod3.rasp" --generate --input "1 1" --max-steps -1
refute "179769" -- "$raspc" run "$root/samples/fibonacci_mod3.rasp" --generate --input "1 1" \
    --max-steps -1
expect 2 "nothing to check" -- "$raspc" verify "$root/samples/reverse.rasp" --samples 0 \
    --exhaustive-limit 0
expect 2 "--samples: must be a whole number from 0" -- "$raspc" verify \
    "$root/samples/reverse.rasp" --samples -3
# --max-len reaches as far as a program's own max_len (the samples use 1100000).
expect 0 "float64" -- "$raspc" compile "$root/samples/binary_counter.rasp" --max-len 1100000 \
    -o "$work/binary_counter.onnx"
expect 2 "--max-len: must be a whole number from 1 to 2147483647" -- "$raspc" compile \
    "$root/samples/reverse.rasp" --max-len 4000000000

# Generation that runs out of positions says so on stderr, and still succeeds.
expect 0 "note: generation stopped at the model's maximum length (64 tokens)" -- "$raspc" run \
    "$root/samples/fibonacci_mod3.rasp" --generate --input "1 1" --max-steps 1000
refute "maximum length" -- "$raspc" run "$root/samples/fibonacci_mod3.rasp" --generate \
    --input "1 1" --max-steps 10

# A bad line in --inputs-file: named by its line, never echoed whole; nothing runs.
{ echo abc; head -c 5000 /dev/zero | tr '\0' 'a'; echo; echo cba; } > "$work/one_long.txt"
expect 1 "line 2 of $work/one_long.txt (\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...\" (5000 characters)): input has 5000 tokens, more than the model's maximum length 8; no input was run" -- \
    "$raspc" run "$work/sort.onnx" --inputs-file "$work/one_long.txt"
expect 1 "more than the maximum length 8; no input was evaluated" -- \
    "$raspc" eval "$root/samples/sort.rasp" --inputs-file "$work/one_long.txt"
refute "$(head -c 200 /dev/zero | tr '\0' 'a')" -- \
    "$raspc" run "$work/sort.onnx" --inputs-file "$work/one_long.txt"
refute "[a, b, c]" -- "$raspc" eval "$root/samples/sort.rasp" --inputs-file "$work/one_long.txt"
# Number inputs are separated by spaces: "1,2" is no number.
expect 1 'input token "1,2" is not an integer (separate tokens with spaces' -- \
    "$raspc" run "$root/samples/fibonacci_mod3.rasp" --input "1,2"
expect 1 'input token "1,2" is not an integer' -- \
    "$raspc" eval "$root/samples/fibonacci_mod3.rasp" --input "1,2"

# onnxruntime's runner tells a truncated raspc file from a foreign one.
printf '["a","b"]\n' > "$work/ab.jsonl"
expect 1 "truncated" -- node "$root/tests/ort/run_ort.mjs" "$work/truncated.onnx" "$work/ab.jsonl"
head -c 3000 "$work/sort.onnx" > "$work/cut.onnx"
expect 1 "corrupt or truncated" -- node "$root/tests/ort/run_ort.mjs" "$work/cut.onnx" \
    "$work/ab.jsonl"
refute "foreign" -- node "$root/tests/ort/run_ort.mjs" "$work/cut.onnx" "$work/ab.jsonl"

# Long programs: draw puts a lookup with its head (attention), as inspect lists it, and
# inspect's "last read" counts reads by MLPs (a lookup's default, a fused map) and the readout.
dot=$("$raspc" draw "$root/samples/binary_counter.rasp" -o -)
l0=$(printf '%s\n' "$dot" | sed -n '/subgraph cluster_L0_attention/,/^    }/p')
if [[ "$l0" != *'label="mark\naggregate latest'* ]]; then
    echo "FAIL: draw does not put the lookup 'mark' in layer 0's attention"
    printf '%s\n' "$dot" | sed 's/^/    /'
    failures=$((failures + 1))
fi
last_reads() {  # last_reads <program>: "name lastRead" for every s-op with a slot
    "$raspc" inspect "$1" --json | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",
        ()=>{for(const r of JSON.parse(s).slots)if(r.node!==undefined&&r.dims.length)
        console.log(r.name+" "+r.lastRead)})'
}
reads=$(last_reads "$root/samples/binary_counter.rasp")
for want in "copied 3" "past_last_digit 3" "within_length 3" "mark 2"; do
    if ! grep -qx "$want" <<<"$reads"; then
        echo "FAIL: binary_counter's last reads lack '$want':"
        echo "$reads" | sed 's/^/    /'
        failures=$((failures + 1))
    fi
done
if ! grep -qx "width_inverse 0" <<<"$(last_reads "$root/samples/reverse.rasp")"; then
    echo "FAIL: reverse's width_inverse is read by layer 0's MLP"
    failures=$((failures + 1))
fi

# The generating samples made short: per-position value sets give up past their work budget
# (keeping a range), so these finish in seconds, compiled or refused where the problem is.
expect 0 "a range instead" -- env RASPC_DEBUG=value_sets \
    "$raspc" compile "$root/samples/binary_counter.rasp" --max-len 200 --emit=ir-opt
expect 1 "binary_counter.rasp:35:18: error" -- \
    "$raspc" compile "$root/samples/binary_counter.rasp" --max-len 1000 -o "$work/bc.onnx"
expect 0 "4 heads, residual width" -- \
    "$raspc" compile "$root/samples/counter_machine.rasp" --max-len 200 -o "$work/cm.onnx"

# Output paths: only regular files are written (a directory or a FIFO never is, even with
# --force); a symbolic link is written through and stays a link.
mkdir -p "$work/out_dir.onnx" "$work/out_dir.svg"
expect 1 "is a directory" -- "$raspc" compile "$root/samples/reverse.rasp" -o "$work/out_dir.onnx" --force
expect 1 "is a directory" -- "$raspc" draw "$root/samples/reverse.rasp" -o "$work/out_dir.svg" --force
[ -d "$work/out_dir.onnx" ] || fail "compile --force replaced a directory"
ls "$work"/out_dir.svg.raspc-tmp* >/dev/null 2>&1 && fail "draw left a temporary file behind"
rm -f "$work/fifo.onnx" && mkfifo "$work/fifo.onnx"
expect 1 "not a regular file" -- "$raspc" compile "$root/samples/reverse.rasp" -o "$work/fifo.onnx" --force
[ -p "$work/fifo.onnx" ] || fail "compile --force replaced a FIFO"
rm -f "$work/target.onnx" "$work/link.onnx"
"$raspc" compile "$root/samples/reverse.rasp" -o "$work/target.onnx" >/dev/null
ln -s target.onnx "$work/link.onnx"
expect 0 "" -- "$raspc" compile "$root/samples/sort.rasp" -o "$work/link.onnx"
[ -L "$work/link.onnx" ] || fail "compile replaced a symbolic link instead of writing through it"
expect 0 "[a, b, c, d]" -- "$raspc" run "$work/target.onnx" --input dcba

# An output named twice is a usage error; an empty inputs file is no input.
expect 2 "more than once" -- "$raspc" compile "$root/samples/reverse.rasp" --output reverse,reverse -o "$work/dup.onnx"
: > "$work/empty.txt"
expect 1 "holds no input" -- "$raspc" eval "$root/samples/reverse.rasp" --inputs-file "$work/empty.txt"

# A program that is not UTF-8 is refused where the bad byte is.
printf 'vocab "ab";\nmax_len 4;\n# caf\xe9\nx = tokens;\n' > "$work/latin1.rasp"
expect 1 "latin1.rasp:3:6: error: this byte is not UTF-8" -- "$raspc" eval "$work/latin1.rasp" --input ab

# A mean of booleans as an output could show True or 1 for one number: refused, with the fix.
printf 'vocab "ab";\nmax_len 4;\nm = aggregate(select(indices, indices, <=), tokens == "a", 0);\n' \
    > "$work/bool_mean.rasp"
expect 1 "aggregate numbers, not booleans" -- "$raspc" compile "$work/bool_mean.rasp" -o "$work/bm.onnx"

# An aggregate of strings with the number default 0: a sequence mixing both is refused by the
# interpreter, and so by the native runner and onnxruntime; one kind alone decodes.
printf 'vocab "ab";\nmax_len 5;\nx = aggregate(select(indices, indices, ==) and select(tokens, "a", ==), tokens);\n' \
    > "$work/mixed.rasp"
expect 1 "mixes strings with other values" -- "$raspc" eval "$work/mixed.rasp" --input ab
expect 1 "mixes strings with other values (a at position 0, 0 at position 1)" -- \
    "$raspc" run "$work/mixed.rasp" --input ab
expect 0 "[a]*2" -- "$raspc" run "$work/mixed.rasp" --input aa
"$raspc" compile "$work/mixed.rasp" -o "$work/mixed.onnx" >/dev/null
printf '["a","b"]\n["a","a"]\n' > "$work/mixed.jsonl"
expect 0 '{"error":"output '"'"'x'"'"' mixes strings with other values' -- \
    node "$root/tests/ort/run_ort.mjs" "$work/mixed.onnx" "$work/mixed.jsonl"
expect 0 '{"outputs":{"x":["a","a"]}}' -- \
    node "$root/tests/ort/run_ort.mjs" "$work/mixed.onnx" "$work/mixed.jsonl"

# A categorical aggregate that averages different values on some input, read by a map rather
# than an output: its MLP adds the one-hot's distance from clean into the average check, and
# the native runner (from source or file) and onnxruntime refuse that input as eval does.
cat > "$work/hidden_average.rasp" <<'EOF'
vocab "abc";
max_len 6;
nxt = shift(tokens, 1, "_");
x = aggregate(select(tokens, "a", ==), nxt, "-");
y = 1 if x == "b" else 0;
z = aggregate(select(indices, y, ==), tokens, "-");
EOF
expect 1 "averages 2 different non-numeric values" -- "$raspc" eval "$work/hidden_average.rasp" --input aab
expect 1 "an aggregate averaged different values" -- "$raspc" run "$work/hidden_average.rasp" --input aab
expect 0 "[a]*3" -- "$raspc" run "$work/hidden_average.rasp" --input abb
"$raspc" compile "$work/hidden_average.rasp" -o "$work/hidden_average.onnx" >/dev/null
expect 1 "one of: x (" -- "$raspc" run "$work/hidden_average.onnx" --input aab
printf '["a","a","b"]\n["a","b","b"]\n' > "$work/hidden_average.jsonl"
expect 0 '{"error":"output '"'"'z'"'"' at position 0 is refused by the model (NaN)' -- \
    node "$root/tests/ort/run_ort.mjs" "$work/hidden_average.onnx" "$work/hidden_average.jsonl"
expect 0 '{"outputs":{"z":["a","a","a"]}}' -- \
    node "$root/tests/ort/run_ort.mjs" "$work/hidden_average.onnx" "$work/hidden_average.jsonl"

# A program's example outside its vocabulary is named as the example.
printf 'vocab "ab";\nmax_len 4;\nset example "abc";\nx = tokens;\n' > "$work/bad_example.rasp"
expect 1 "the program's example \"abc\" cannot run" -- "$raspc" eval "$work/bad_example.rasp"
expect 1 "fix its \`set example\` line" -- "$raspc" run "$work/bad_example.rasp"

# --vocab values are checked as the alphabet, and an empty one is refused.
expect 2 "--vocab: " -- "$raspc" eval "$root/samples/fibonacci_mod3.rasp" --vocab abc --input "1 1"
expect 2 "--vocab: the alphabet is empty" -- "$raspc" eval "$root/samples/reverse.rasp" --vocab "" --input ab

# --output of a selector or a built-in s-op says what it is.
expect 1 "is a selector, not an s-op" -- "$raspc" eval "$root/samples/reverse.rasp" --output flip --input ab
expect 1 "'tokens' is built in" -- "$raspc" eval "$root/samples/reverse.rasp" --output tokens --input ab

# Generation refuses what eval refuses anywhere in the sequence: an aggregate that averaged
# different values in the prompt or after it (the average check), an output whose positions
# mix strings with other values; a long program's mean lookup carries the check too.
printf 'vocab "abc";\nmax_len 8;\ncausal;\np = aggregate(select(indices, indices - 1, ==), tokens, "a");\nx = aggregate(select(tokens, tokens, ==), p, "a");\ny = {"a": "b", "b": "b", "c": "a"}[x];\n' \
    > "$work/gen_average.rasp"
expect 1 "the prompt: output 'y': at position 2 an aggregate averaged different values" -- \
    "$raspc" run "$work/gen_average.rasp" --generate --input abab
expect 1 "stopped after 1 token: output 'y': at position 2 an aggregate averaged" -- \
    "$raspc" run "$work/gen_average.rasp" --generate --input ab
sed 's/max_len 8/max_len 5000/' "$work/gen_average.rasp" > "$work/gen_average_long.rasp"
expect 1 "one of: x (" -- "$raspc" run "$work/gen_average_long.rasp" --input abb
expect 0 "[b]*3" -- "$raspc" run "$work/gen_average_long.rasp" --input abc
printf 'vocab "ab1";\nmax_len 8;\ncausal;\nx = aggregate(select(indices, indices - 1, ==), tokens, 1);\n' > "$work/gen_mixed.rasp"
expect 1 "stopped after 1 token: output 'x' mixes strings with other values" -- \
    "$raspc" run "$work/gen_mixed.rasp" --generate --input a --max-steps 3
# An s-op inside the model that may mix strings with other values gets a warning.
printf 'vocab "abc";\nmax_len 5;\nx = aggregate(select(indices, indices - 1, ==), tokens, 0);\ny = x == "a";\n' > "$work/inner_mixed.rasp"
expect 0 "warning: this may mix strings with other values" -- \
    "$raspc" compile "$work/inner_mixed.rasp" -o "$work/inner_mixed.onnx"

# A categorical output that averaged different values: the native runner and onnxruntime (the
# graph marks the position with id -1) both refuse it, as eval does.
printf 'vocab "abc";\nmax_len 5;\nx = aggregate(select(tokens, tokens, <), tokens, "z");\n' > "$work/blurred.rasp"
"$raspc" compile "$work/blurred.rasp" -o "$work/blurred.onnx" >/dev/null
expect 1 "is ambiguous" -- "$raspc" run "$work/blurred.onnx" --input abc
printf '["a","b","c"]\n["a","a"]\n' > "$work/blurred.jsonl"
expect 0 "{\"error\":\"output 'x' at position 2 is refused by the model" -- \
    node "$root/tests/ort/run_ort.mjs" "$work/blurred.onnx" "$work/blurred.jsonl"
expect 0 '{"outputs":{"x":["z","z"]}}' -- \
    node "$root/tests/ort/run_ort.mjs" "$work/blurred.onnx" "$work/blurred.jsonl"

# verify counts an input the interpreter fails on as agreeing when the model refuses it too,
# and reports one the model answers.
expect 0 "the interpreter fails on and the model refuses" -- "$raspc" verify "$work/hidden_average.rasp"
expect 1 "the interpreter fails where the model answers" -- "$raspc" verify "$work/inner_mixed.rasp"

# A second vocab statement is an error, not a silent override.
printf 'vocab "ab";\nvocab "abc";\nmax_len 4;\nx = tokens;\n' > "$work/two_vocabs.rasp"
expect 1 "two_vocabs.rasp:2:7: error: the vocab is set twice" -- "$raspc" eval "$work/two_vocabs.rasp" --input ab

# --inputs-file - reads standard input.
expect 0 'reverse("ba") = [a, b]' -- bash -c "printf 'abc\nba\n' | '$raspc' eval '$root/samples/reverse.rasp' --inputs-file -"

if [ "$failures" -ne 0 ]; then
    echo "$failures CLI checks failed"
    exit 1
fi
echo "all CLI checks passed"
