// Runs a raspc ONNX model under onnxruntime on token inputs and prints decoded outputs.
// Usage: node tests/ort/run_ort.mjs model.onnx inputs.jsonl
//   Each input line is a JSON array of tokens. Each output line, in input order, is
//   {"outputs": {"<name>": ["v0", ...], ...}} or {"error": "..."}.
import fs from 'node:fs';
import ort from 'onnxruntime-node';

import { decodeOutput, describeModel, encodeTokens, readMetadata, tokensData } from
    './raspc_onnx.mjs';

// Bounds the memory of one session.run: attention scores grow as batch * seq^2.
const kMaxBatch = 256;

async function main() {
    const [modelPath, inputsPath] = process.argv.slice(2);
    if (!modelPath || !inputsPath) {
        console.error('usage: node run_ort.mjs model.onnx inputs.jsonl');
        process.exit(2);
    }
    const model = describeModel(readMetadata(modelPath));
    const session = await ort.InferenceSession.create(modelPath);
    const lines = fs.readFileSync(inputsPath, 'utf8').split('\n').filter((l) => l.trim());

    // Encode everything first, then run inputs of equal length together.
    const results = new Array(lines.length);
    const byLength = new Map();
    lines.forEach((line, i) => {
        try {
            // Tokens as the vocabulary shows them; JSON numbers and booleans are accepted too.
            const tokens = JSON.parse(line).map((t) =>
                typeof t === 'boolean' ? (t ? 'True' : 'False') : String(t));
            const ids = encodeTokens(model, tokens);
            if (!byLength.has(ids.length)) byLength.set(ids.length, []);
            byLength.get(ids.length).push({ index: i, ids });
        } catch (e) {
            results[i] = { error: e.message };
        }
    });

    for (const [seq, group] of byLength) {
        for (let start = 0; start < group.length; start += kMaxBatch) {
            const chunk = group.slice(start, start + kMaxBatch);
            const tokens = new ort.Tensor('int64', tokensData(chunk.map((c) => c.ids)),
                                          [chunk.length, seq]);
            const fetched = await session.run({ tokens });
            chunk.forEach(({ index }, b) => {
                try {
                    const outputs = {};
                    for (const output of model.outputs) {
                        const data = fetched[output.name].data;
                        outputs[output.name] = decodeOutput(output,
                                                            data.subarray(b * seq, (b + 1) * seq));
                    }
                    results[index] = { outputs };
                } catch (e) {
                    results[index] = { error: e.message };
                }
            });
        }
    }
    for (const r of results) process.stdout.write(JSON.stringify(r) + '\n');
}

main().catch((e) => {
    console.error(`run_ort: ${e.message}`);
    process.exit(1);
});
