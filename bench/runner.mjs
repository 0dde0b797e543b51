// Compiles every program in samples/ and times the native runner against onnxruntime on the
// same model files and inputs (build/bench/raspc_bench_runner), then writes bench/runner.md:
// tokens per second side by side, their ratio, and the native runner's share of the physical
// limit of ANCHORS.md (2 x parameters FLOPs per token at 100 GFLOP/s).
//
// Usage: node bench/runner.mjs [--build DIR] [--out FILE] [--batch N] [--reps R] [--threads T]
//   --build DIR   the build tree (default: build, or $RASPC_BUILD); needs the targets raspc and
//                 raspc_bench_runner
//   --out FILE    the report (default: bench/runner.md)
//   --batch N     sequences per timed run (256); each is as long as the model's maximum length
//   --reps R      timed runs per side; the median counts (20)
//   --threads T   onnxruntime intra-op threads (1; the native runner uses one thread)
//   --rounds K    whole benchmark runs; each side keeps its best round (3), which damps the
//                 noise of a shared machine
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { runMain, treeVersion, wrap, writeReport } from './report.mjs';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const kFlopsPerSecond = 100e9;  // ANCHORS.md: a 2-core AVX-512 machine, float32

function parseArgs(argv) {
    const opt = { build: process.env.RASPC_BUILD || path.join(repo, 'build'),
                  out: path.join(repo, 'bench', 'runner.md'), batch: 256, reps: 20, threads: 1,
                  rounds: 3 };
    for (let i = 0; i < argv.length; ++i) {
        const next = () => argv[++i];
        if (argv[i] === '--build') opt.build = path.resolve(next());
        else if (argv[i] === '--out') opt.out = path.resolve(next());
        else if (argv[i] === '--batch') opt.batch = Number(next());
        else if (argv[i] === '--reps') opt.reps = Number(next());
        else if (argv[i] === '--threads') opt.threads = Number(next());
        else if (argv[i] === '--rounds') opt.rounds = Number(next());
        else throw new Error(`unknown argument '${argv[i]}' (see the comment at the top)`);
    }
    return opt;
}

const group = (n) => Math.round(n).toLocaleString('en-US');

// The physical limit's share, as a percentage with enough digits to be nonzero.
function percent(x) {
    const p = 100 * x;
    return p >= 10 ? p.toFixed(0) + '%' : p >= 1 ? p.toFixed(1) + '%' : p.toFixed(2) + '%';
}

function main() {
    const opt = parseArgs(process.argv.slice(2));
    const raspc = path.join(opt.build, 'raspc');
    const bench = path.join(opt.build, 'bench', 'raspc_bench_runner');
    for (const tool of [raspc, bench]) {
        if (!fs.existsSync(tool)) throw new Error(`no ${tool} (build it first, or --build)`);
    }

    // Compile every sample; the compile report gives exact parameter counts.
    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'raspc_runner_'));
    const samples = fs.readdirSync(path.join(repo, 'samples')).filter((f) => f.endsWith('.rasp'))
        .sort();
    const models = [];
    const failed = [];
    for (const file of samples) {
        const name = path.basename(file, '.rasp');
        const model = path.join(scratch, `${name}.onnx`);
        try {
            const out = execFileSync(raspc, ['compile', path.join('samples', file), '-o', model,
                                             '--force', '--json'],
                                     { cwd: repo, encoding: 'utf8',
                                       stdio: ['ignore', 'pipe', 'pipe'] });
            models.push({ name, model, report: JSON.parse(out) });
        } catch (e) {
            const first = String(e.stderr || '').trim().split('\n')[0];
            failed.push({ name, message: first || (e.signal ? `crashed (${e.signal})`
                                                            : `exit ${e.status}`) });
        }
    }
    if (models.length === 0) {
        throw new Error('no sample compiled: ' + failed.map((f) => `${f.name}: ${f.message}`)
            .join('; '));
    }

    // Each round runs the benchmark over all models; it prints one line per model. Each side
    // keeps its best round.
    const timings = new Map();
    for (let round = 0; round < opt.rounds; ++round) {
        const out = execFileSync(bench, ['--batch', String(opt.batch), '--reps', String(opt.reps),
                                         '--threads', String(opt.threads),
                                         ...models.map((m) => m.model)],
                                 { cwd: repo, encoding: 'utf8',
                                   stdio: ['ignore', 'pipe', 'inherit'] });
        for (const line of out.split('\n').slice(1)) {
            const f = line.trim().split(/\s+/);
            if (f.length < 9) continue;
            const t = timings.get(f[0]) || { len: Number(f[3]), native: 0, ort: 0 };
            t.native = Math.max(t.native, Number(f[6]));
            t.ort = Math.max(t.ort, Number(f[7]));
            timings.set(f[0], t);
        }
    }
    fs.rmSync(scratch, { recursive: true, force: true });

    const version = treeVersion(repo);
    const load = os.loadavg().map((x) => x.toFixed(2)).join(', ');
    const lines = [];
    lines.push('# Native runner against onnxruntime', '');
    lines.push(wrap(`Generated by \`node bench/runner.mjs\` (tree at ${version}, raspc from ` +
        `${opt.build}, ` +
        `${new Date().toISOString().slice(0, 10)}) on ${os.cpus().length} CPUs ` +
        `(${os.cpus()[0].model.trim()}), load average ${load} at the end of the run: the ` +
        'machine may be shared with other work, so treat differences under about 30% as noise.'));
    lines.push('', wrap(`Each model runs a batch of ${opt.batch} random inputs at its maximum ` +
        `length in one call (no key/value cache): ${opt.reps} timed runs after a warm-up, the ` +
        `median counted, the best of ${opt.rounds} rounds kept per side. Native: one thread; ` +
        `onnxruntime: ${opt.threads} intra-op thread(s). Limit: ANCHORS.md's physical bound, ` +
        '100 GFLOP/s / (2 x parameters) tokens/s. "Of limit" is the native runner\'s share of ' +
        'it counting all (dense) parameters; "of non-zero limit" counts only the non-zero ' +
        'ones, the bound for a runner that skips zeros.'), '');
    lines.push('| sample | batch x len | params | non-zero | native tok/s | onnxruntime tok/s | ' +
               'native/ort | limit tok/s | of limit | of non-zero limit |');
    lines.push('|---|---|---|---|---|---|---|---|---|---|');
    for (const m of models) {
        const t = timings.get(m.name);
        const p = m.report.parameters;
        const nz = m.report.nonZeroParameters;
        if (!t) {
            lines.push(`| ${m.name} | | ${group(p)} | ${group(nz)} | not timed | | | | | |`);
            continue;
        }
        const limit = kFlopsPerSecond / (2 * p);
        const nzLimit = kFlopsPerSecond / (2 * nz);
        lines.push(`| ${m.name} | ${opt.batch} x ${t.len} | ${group(p)} | ${group(nz)} | ` +
                   `${group(t.native)} | ${group(t.ort)} | ${(t.native / t.ort).toFixed(2)} | ` +
                   `${group(limit)} | ${percent(t.native / limit)} | ` +
                   `${percent(t.native / nzLimit)} |`);
    }
    for (const f of failed) {
        lines.push(`| ${f.name} | not compiled: ${f.message} | | | | | | | | |`);
    }
    writeReport(opt.out, lines);
}

runMain('runner', main);
