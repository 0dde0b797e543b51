// Checks the traces that causal samples generate against trace_reference, a direct C++
// computation of the same sequences. One case (a sample and a prompt), one kind of check:
//   interp    the interpreter (raspc eval) on prompt + reference trace predicts, at every
//             position from the prompt's last token on, the token that follows it
//   generate  raspc run --generate on the compiled model writes the reference trace
//   ort       onnxruntime, running the full model on each growing prefix of the reference
//             trace, predicts the next token at the prefix's last position (and, on the
//             longest prefix, at every position from the prompt's last token on)
// Usage: node trace_check.mjs --raspc build/raspc --reference build/.../trace_reference
//            --root REPO --work DIR --check interp|generate|ort --case NAME [--tokens N]
//            [--max-len N]
// --max-len overrides the sample's maximum length (when compiling and evaluating) and checks
// only the tokens that fit after the prompt.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

import { decodeOutput, describeModel, encodeTokens, readMetadata, tokensData } from
    '../ort/raspc_onnx.mjs';

const kMultiply = '0 530 11 1 520 0 2 531 7 3 521 0 4 512 0 5 513 0 6 540 2 7 533 0 8 523 0 ' +
                  '9 511 0 10 540 7 11 500 0 106 207 600';
const kOdometer = '0 510 0 1 530 3 2 540 0 3 511 0 4 531 6 5 540 0 6 512 0 7 532 9 8 540 0 ' +
                  '9 513 0 10 533 12 11 540 0 12 500 0 600';
// A countdown from r0 = 5 with an empty loop body, then one more DEC past zero (wraps to 63),
// then a jump to a line that does not exist.
const kCountdown = '0 530 3 1 520 0 2 540 0 3 520 0 4 540 40 105 600';

// Tokens to check per kind of check: the interpreter is quadratic in the trace length, the
// prefix runs under onnxruntime are too.
const kCases = {
    binary_counter: { sample: 'binary_counter', prompt: '0;', strings: true,
                      interp: 10000, generate: 10000, ort: 200 },
    binary_counter_from_11: { sample: 'binary_counter', prompt: '1011;', strings: true,
                              interp: 500, generate: 10000, ort: 200 },
    counter_machine_multiply: { sample: 'counter_machine', prompt: kMultiply, strings: false,
                                interp: 700, generate: 700, ort: 200 },
    counter_machine_odometer: { sample: 'counter_machine', prompt: kOdometer, strings: false,
                                interp: 10000, generate: 10000, ort: 200 },
    counter_machine_countdown: { sample: 'counter_machine', prompt: kCountdown, strings: false,
                                 interp: 40, generate: 40, ort: 40 },
    cellular_automaton: { sample: 'cellular_automaton', prompt: '...............................#|',
                          strings: true, interp: 10000, generate: 10000, ort: 200 },
    // A narrow row: many rows, and both edges, within few tokens.
    cellular_automaton_narrow: { sample: 'cellular_automaton', prompt: '.#..##.#.#|',
                                 strings: true, interp: 2000, generate: 10000, ort: 200 },
    // fibonacci_mod3 is compiled with max_len 64: 62 tokens fit after its prompt.
    fibonacci_mod3: { sample: 'fibonacci_mod3', prompt: '1 1', strings: false,
                      interp: 62, generate: 62, ort: 62 },
};

function parseArgs(argv) {
    const args = {};
    for (let i = 0; i < argv.length; i += 2) args[argv[i].replace(/^--/, '')] = argv[i + 1];
    for (const need of ['raspc', 'reference', 'root', 'work', 'check', 'case']) {
        if (!args[need]) throw new Error(`missing --${need}`);
    }
    if (!kCases[args.case]) throw new Error(`unknown case '${args.case}'`);
    if (!['interp', 'generate', 'ort'].includes(args.check))
        throw new Error(`unknown check '${args.check}'`);
    return args;
}

const lengthFlags = (args) => (args['max-len'] ? ['--max-len', args['max-len']] : []);

const run = (cmd, argv) => execFileSync(cmd, argv, { maxBuffer: 1 << 30, encoding: 'utf8' });

function splitTokens(text, strings) {
    return strings ? Array.from(text) : text.split(' ').filter((t) => t !== '');
}

function joinTokens(tokens, strings) {
    return tokens.join(strings ? '' : ' ');
}

/** The first n tokens generated after the case's prompt, from trace_reference. */
function referenceTrace(args, c, n) {
    const text = run(args.reference, [c.sample, c.prompt, String(n)]).replace(/\n$/, '');
    const tokens = splitTokens(text, c.strings);
    if (tokens.length !== n)
        throw new Error(`trace_reference gave ${tokens.length} tokens, wanted ${n}`);
    return tokens;
}

/**
 * Compares predictions with the reference, token for token. predicted[k] is what the model
 * said follows prompt + reference[0..k). Reports the first difference with its context.
 */
function compare(label, c, prompt, reference, predicted) {
    const k = reference.findIndex((t, i) => predicted[i] !== t);
    if (k < 0 && predicted.length === reference.length) {
        console.log(`${label}: all ${reference.length} tokens after "${c.prompt}" match`);
        return true;
    }
    if (k < 0) {
        console.error(`${label}: ${predicted.length} tokens, the reference has ` +
                      `${reference.length}`);
        return false;
    }
    const before = [...prompt, ...reference.slice(0, k)].slice(-40);
    console.error(`${label}: first difference at generated token ${k} ` +
                  `(position ${prompt.length + k}): reference '${reference[k]}', got ` +
                  `'${predicted[k]}'`);
    console.error(`  after: ...${joinTokens(before, c.strings)}`);
    console.error(`  reference continues: ${joinTokens(reference.slice(k, k + 20), c.strings)}`);
    console.error(`  got:                 ${joinTokens(predicted.slice(k, k + 20), c.strings)}`);
    return false;
}

function checkInterp(args, c, label, n) {
    const program = path.join(args.root, 'samples', `${c.sample}.rasp`);
    const prompt = splitTokens(c.prompt, c.strings);
    const reference = referenceTrace(args, c, n);
    // The prediction for the last reference token comes from the position before it.
    const input = [...prompt, ...reference.slice(0, n - 1)];
    const out = JSON.parse(run(args.raspc, ['eval', program, '--json', ...lengthFlags(args),
                                            '--input', joinTokens(input, c.strings)]));
    const values = Object.values(out.outputs)[0];
    return compare(label, c, prompt, reference, values.slice(prompt.length - 1));
}

function compileModel(args, c) {
    const program = path.join(args.root, 'samples', `${c.sample}.rasp`);
    const model = path.join(args.work, `${c.sample}.onnx`);
    run(args.raspc, ['compile', program, '-o', model, '--force', ...lengthFlags(args)]);
    return model;
}

function checkGenerate(args, c, label, n) {
    const model = compileModel(args, c);
    const prompt = splitTokens(c.prompt, c.strings);
    const reference = referenceTrace(args, c, n);
    const out = JSON.parse(run(args.raspc, ['run', model, '--generate', '--json', '--input',
                                            c.prompt, '--max-steps', String(n)]));
    return compare(label, c, prompt, reference, out.generated);
}

async function checkOrt(args, c, label, n) {
    const { default: ort } = await import('onnxruntime-node');
    const modelPath = compileModel(args, c);
    const model = describeModel(readMetadata(modelPath));
    const output = model.outputs[0];
    const session = await ort.InferenceSession.create(modelPath);
    const prompt = splitTokens(c.prompt, c.strings);
    const reference = referenceTrace(args, c, n);

    let decoded = [];
    const predicted = [];
    for (let k = 0; k < n; k++) {
        const ids = encodeTokens(model, [...prompt, ...reference.slice(0, k)]);
        const tokens = new ort.Tensor('int64', tokensData([ids]), [1, ids.length]);
        const fetched = await session.run({ tokens });
        decoded = decodeOutput(output, fetched[output.name].data);
        predicted.push(decoded[decoded.length - 1]);
        if (predicted[k] !== reference[k]) break;
    }
    if (!compare(label, c, prompt, reference, predicted)) return false;
    // The longest prefix's earlier positions must predict their next tokens too: a causal model
    // gives every position what it gives that position's own prefix.
    return compare(`${label} (every position of the longest prefix)`, c, prompt,
                   reference.slice(0, n - 1), decoded.slice(prompt.length - 1, -1));
}

async function main() {
    const args = parseArgs(process.argv.slice(2));
    fs.mkdirSync(args.work, { recursive: true });
    const c = kCases[args.case];
    let n = Number(args.tokens ?? c[args.check]);
    if (args['max-len'])
        n = Math.min(n, Number(args['max-len']) - splitTokens(c.prompt, c.strings).length);
    const label = `${args.check} ${args.case}`;
    const checks = { interp: checkInterp, generate: checkGenerate, ort: checkOrt };
    const ok = await checks[args.check](args, c, label, n);
    process.exit(ok ? 0 : 1);
}

main().catch((e) => {
    console.error(`trace_check: ${e.message}`);
    process.exit(1);
});
