// Checks one language case: the interpreter (raspc eval), the native runner (raspc run on the
// compiled model) and onnxruntime must all give the values the case file expects.
// Usage: node check.mjs --raspc build/raspc --case tests/e2e/language/x.json --work DIR
//
// A case file is JSON: {"program": "x.rasp" (default: the case's own name), "flags": [...]
// (passed to compile and eval), "eval_only": true (interpreter only), "cases": [{"input": "...",
// "expect": {"<output>": values}}]}, where values is a list of shown values, one per position,
// or {"every": v} for v at every position. Only the expected outputs are computed.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { readMetadata } from '../../ort/raspc_onnx.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));

function parseArgs(argv) {
    const args = {};
    for (let i = 0; i < argv.length; i += 2) args[argv[i].replace(/^--/, '')] = argv[i + 1];
    for (const need of ['raspc', 'case', 'work']) {
        if (!args[need]) throw new Error(`missing --${need}`);
    }
    return args;
}

// Runs a command; returns its stdout, or throws with its stderr.
function run(cmd, argv) {
    const r = spawnSync(cmd, argv, { encoding: 'utf8', maxBuffer: 1 << 28 });
    if (r.status !== 0) {
        const what = [path.basename(cmd), ...argv].join(' ');
        throw new Error(`\`${what}\` exited ${r.status}:\n${(r.stderr || r.stdout).trim()}`);
    }
    return r.stdout;
}

function jsonLines(text) {
    return text.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
}

// Numbers compare by value (2 and 2.0 are the same); anything else must match as shown.
function same(a, b) {
    if (a === b) return true;
    if (typeof a !== 'string' || typeof b !== 'string' || !a.trim() || !b.trim()) return false;
    const x = Number(a), y = Number(b);
    if (Number.isNaN(x) || Number.isNaN(y)) return false;
    return Math.abs(x - y) <= 1e-9 * Math.max(1, Math.abs(x));
}

function expectedValues(spec, length) {
    if (Array.isArray(spec)) return spec;
    if (spec && 'every' in spec) return Array(length).fill(String(spec.every));
    throw new Error(`bad expectation ${JSON.stringify(spec)}`);
}

function short(values) {
    const text = JSON.stringify(values);
    return text.length > 200 ? text.slice(0, 200) + '...' : text;
}

// Runs the interpreter, and unless evalOnly the compiled model under the native runner and
// onnxruntime, on `cases`, computing `outputs`. Returns {side: results | Error}, where results
// holds one object per case.
function runSides(args, spec, program, tag, outputs, cases) {
    const flags = [...(spec.flags ?? []), '--output', outputs.join(',')];
    const textPath = path.join(args.work, `${tag}.inputs.txt`);
    fs.writeFileSync(textPath, cases.map((c) => c.input).join('\n') + '\n');

    const sides = {};
    const attempt = (side, produce) => {
        try {
            sides[side] = produce();
            if (sides[side].length !== cases.length) {
                throw new Error(`${sides[side].length} results for ${cases.length} inputs`);
            }
        } catch (e) {
            sides[side] = e;
        }
    };
    attempt('interpreter', () => jsonLines(run(args.raspc, ['eval', program, '--inputs-file',
                                                            textPath, '--json', ...flags])));
    if (spec.eval_only) return sides;

    const modelPath = path.join(args.work, `${tag}.onnx`);
    try {
        run(args.raspc, ['compile', program, '-o', modelPath, '--force', ...flags]);
    } catch (e) {
        sides.native = sides.onnxruntime = e;
        return sides;
    }
    const stringTokens = (readMetadata(modelPath).get('raspc.token_type') ?? 'str') === 'str';
    const tokensOf = (t) => (stringTokens ? Array.from(t) : t.trim().split(/[\s,]+/));
    const jsonPath = path.join(args.work, `${tag}.inputs.jsonl`);
    fs.writeFileSync(jsonPath, cases.map((c) => JSON.stringify(tokensOf(c.input))).join('\n') +
                                   '\n');
    attempt('native', () => jsonLines(run(args.raspc, ['run', modelPath, '--inputs-file',
                                                       textPath, '--json'])));
    attempt('onnxruntime', () => jsonLines(run(process.execPath, [
        path.join(here, '../../ort/run_ort.mjs'), modelPath, jsonPath])));
    return sides;
}

function main() {
    const args = parseArgs(process.argv.slice(2));
    const spec = JSON.parse(fs.readFileSync(args.case, 'utf8'));
    const name = path.basename(args.case, '.json');
    const program = path.join(path.dirname(args.case), spec.program ?? `${name}.rasp`);
    fs.mkdirSync(args.work, { recursive: true });

    // Cases that expect the same outputs run together; each computes only what it expects, as
    // a REPL user evaluates one s-op at a time (another s-op may fail on its input).
    const groups = new Map();
    for (const c of spec.cases) {
        const key = Object.keys(c.expect).join(',');
        if (!groups.has(key)) groups.set(key, []);
        groups.get(key).push(c);
    }

    let failures = 0;
    const checked = new Set();
    [...groups.entries()].forEach(([key, cases], g) => {
        const tag = groups.size > 1 ? `${name}.${g}` : name;
        const sides = runSides(args, spec, program, tag, key.split(','), cases);
        for (const [side, results] of Object.entries(sides)) {
            checked.add(side);
            if (results instanceof Error) {
                console.error(`FAIL ${name} ${side} (${key}): ${results.message}`);
                failures++;
                continue;
            }
            cases.forEach((c, i) => {
                for (const [output, want] of Object.entries(c.expect)) {
                    const got = results[i].outputs?.[output];
                    const expected = expectedValues(want, Math.max(got?.length ?? 0, 1));
                    const ok = got && got.length === expected.length &&
                               expected.every((w, p) => same(w, got[p]));
                    if (!ok) {
                        failures++;
                        console.error(`FAIL ${name} ${side} input "${short(c.input)}" output ` +
                                      `${output}: expected ${short(expected)}, got ` +
                                      `${short(got ?? results[i].error ?? results[i])}`);
                    }
                }
            });
        }
    });
    const sides = [...checked].join(', ');
    if (failures > 0) {
        console.error(`${name}: ${failures} failures (${sides})`);
        process.exit(1);
    }
    console.log(`${name}: ${spec.cases.length} inputs give the expected values (${sides})`);
}

try {
    main();
} catch (e) {
    console.error(`check: ${e.message}`);
    process.exit(1);
}
