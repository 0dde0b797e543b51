// Times onnxruntime's session.run on the batch of inputs the native benchmark times.
// Usage: node bench/ort_bench.mjs model.onnx inputs.jsonl <reps> <threads>
//   All inputs must have one length (they form one [batch, seq] tensor). Prints one JSON line:
//   {"runs": R, "medianSeconds": s, "tokensPerSecond": t}.
import fs from 'node:fs';
import ort from 'onnxruntime-node';

import { describeModel, encodeTokens, readMetadata, tokensData } from
    '../tests/ort/raspc_onnx.mjs';

async function main() {
    const [modelPath, inputsPath, repsText = '5', threadsText = '1'] = process.argv.slice(2);
    const model = describeModel(readMetadata(modelPath));
    const inputs = fs.readFileSync(inputsPath, 'utf8').split('\n').filter((l) => l.trim())
        .map((l) => encodeTokens(model, JSON.parse(l)));
    const seq = inputs[0].length;
    if (inputs.some((ids) => ids.length !== seq)) throw new Error('inputs differ in length');

    const threads = Number(threadsText);
    const session = await ort.InferenceSession.create(modelPath, {
        intraOpNumThreads: threads,
        interOpNumThreads: 1,
        graphOptimizationLevel: 'all',
    });
    const tokens = new ort.Tensor('int64', tokensData(inputs), [inputs.length, seq]);
    await session.run({ tokens });  // warm-up: first-run allocations are not the steady state

    const seconds = [];
    for (let r = 0; r < Number(repsText); ++r) {
        const start = process.hrtime.bigint();
        await session.run({ tokens });
        seconds.push(Number(process.hrtime.bigint() - start) / 1e9);
    }
    seconds.sort((a, b) => a - b);
    const median = seconds[Math.floor(seconds.length / 2)];
    const result = { runs: seconds.length, medianSeconds: median,
                     tokensPerSecond: (inputs.length * seq) / median };
    process.stdout.write(JSON.stringify(result) + '\n');
}

main().catch((e) => {
    console.error(`ort_bench: ${e.message}`);
    process.exit(1);
});
