// Differential check of one program: the reference interpreter (raspc eval), the native runner
// (raspc run) and onnxruntime must decode to the same values on every input up to length
// --exhaustive and on --random more inputs up to the maximum length.
// Usage: node differential.mjs --raspc build/raspc --program samples/x.rasp --work DIR
//            [--exhaustive 4] [--random 500] [--seed 1] [-- extra compile flags]
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { describeModel, readMetadata } from '../ort/raspc_onnx.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));

function parseArgs(argv) {
    const args = { exhaustive: 4, random: 500, seed: 1, extra: [] };
    for (let i = 0; i < argv.length; i++) {
        if (argv[i] === '--') { args.extra = argv.slice(i + 1); break; }
        const key = argv[i].replace(/^--/, '');
        args[key] = ['exhaustive', 'random', 'seed'].includes(key) ? Number(argv[++i]) : argv[++i];
    }
    for (const need of ['raspc', 'program', 'work']) {
        if (!args[need]) throw new Error(`missing --${need}`);
    }
    return args;
}

// A small deterministic generator (mulberry32), so failures reproduce.
function rng(seed) {
    let a = seed >>> 0;
    return () => {
        a = (a + 0x6d2b79f5) >>> 0;
        let t = a;
        t = Math.imul(t ^ (t >>> 15), t | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
}

function inputsFor(model, exhaustive, random, seed) {
    const inputs = [];
    const extend = (prefix, left) => {
        if (prefix.length > 0) inputs.push(prefix);
        if (left === 0) return;
        for (const t of model.vocab) extend([...prefix, t], left - 1);
    };
    extend([], Math.min(exhaustive, model.maxLen));
    const next = rng(seed);
    for (let i = 0; i < random; i++) {
        const n = 1 + Math.floor(next() * model.maxLen);
        inputs.push(Array.from({ length: n }, () => model.vocab[Math.floor(next() * model.vocab.length)]));
    }
    return inputs;
}

function jsonLines(text) {
    return text.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
}

function same(a, b) {
    if (a === b) return true;
    const x = Number(a), y = Number(b);
    if (a.trim() === '' || b.trim() === '' || Number.isNaN(x) || Number.isNaN(y)) {
        // Booleans print as True/False on both sides; nothing else may differ.
        return false;
    }
    return Math.abs(x - y) <= 1e-9 * Math.max(1, Math.abs(x));
}

function main() {
    const args = parseArgs(process.argv.slice(2));
    fs.mkdirSync(args.work, { recursive: true });
    const name = path.basename(args.program, '.rasp');
    const modelPath = path.join(args.work, `${name}.onnx`);
    execFileSync(args.raspc, ['compile', args.program, '-o', modelPath, '--force', ...args.extra],
                 { stdio: ['ignore', 'ignore', 'inherit'] });
    const props = readMetadata(modelPath);
    const model = describeModel(props);
    const stringTokens = (props.get('raspc.token_type') ?? 'str') === 'str';

    const inputs = inputsFor(model, args.exhaustive, args.random, args.seed);
    const textPath = path.join(args.work, `${name}.inputs.txt`);
    const jsonPath = path.join(args.work, `${name}.inputs.jsonl`);
    fs.writeFileSync(textPath, inputs.map((t) => t.join(stringTokens ? '' : ' ')).join('\n') + '\n');
    fs.writeFileSync(jsonPath, inputs.map((t) => JSON.stringify(t)).join('\n') + '\n');

    const run = (cmd, argv) => execFileSync(cmd, argv, { maxBuffer: 1 << 30, encoding: 'utf8' });
    const interp = jsonLines(run(args.raspc, ['eval', args.program, '--inputs-file', textPath,
                                              '--json', ...args.extra]));
    const native = jsonLines(run(args.raspc, ['run', modelPath, '--inputs-file', textPath,
                                              '--json']));
    const ort = jsonLines(run(process.execPath, [path.join(here, '../ort/run_ort.mjs'), modelPath,
                                                 jsonPath]));
    if (interp.length !== inputs.length || native.length !== inputs.length ||
        ort.length !== inputs.length) {
        throw new Error(`result counts differ: ${inputs.length} inputs, interpreter ` +
                        `${interp.length}, native ${native.length}, onnxruntime ${ort.length}`);
    }

    let failures = 0;
    for (let i = 0; i < inputs.length; i++) {
        for (const out of model.outputs) {
            const want = interp[i].outputs?.[out.name];
            const sides = { native: native[i], onnxruntime: ort[i] };
            for (const [side, result] of Object.entries(sides)) {
                const got = result.outputs?.[out.name];
                const ok = want && got && want.length === got.length &&
                           want.every((w, p) => same(w, got[p]));
                if (!ok && failures++ < 10) {
                    console.error(`MISMATCH ${name} input ${JSON.stringify(inputs[i])} output ` +
                                  `${out.name}: interpreter ${JSON.stringify(want)}, ${side} ` +
                                  `${JSON.stringify(got ?? result.error)}`);
                }
            }
        }
    }
    const checks = inputs.length * model.outputs.length * 2;
    if (failures > 0) {
        console.error(`${name}: ${failures} of ${checks} comparisons disagree`);
        process.exit(1);
    }
    console.log(`${name}: interpreter, native runner and onnxruntime agree on all ` +
                `${inputs.length} inputs (${checks} comparisons)`);
}

try {
    main();
} catch (e) {
    console.error(`differential: ${e.message}`);
    process.exit(1);
}
