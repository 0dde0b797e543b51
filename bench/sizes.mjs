// Compiles every program in bench/programs/ and writes bench/sizes.md: raspc's layers, heads,
// residual width, MLP hidden width and parameters beside the figures in ANCHORS.md (the RASP
// paper's analysis and tracr's compiled sizes), with a mark per goal.
//
// Usage: node bench/sizes.mjs [--build DIR] [--out FILE]
//   --build DIR  the build tree holding raspc (default: build, or $RASPC_BUILD)
//   --out FILE   the report to write (default: bench/sizes.md)
// Programs are compiled by default and again at -O0 when `raspc compile --help` offers it.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { readMetadata } from '../tests/ort/raspc_onnx.mjs';
import { runMain, treeVersion, wrap, writeReport } from './report.mjs';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');


// The anchors, as ANCHORS.md states them. `paperLayers` on a tracr row is the paper's figure
// for the same program, where the paper has one: the "fewer layers than tracr" goal applies
// where tracr needs more than that.
const paperRows = [
    { file: 'paper_reverse', name: 'reverse', layers: 2, maxHeads: 1 },
    { file: 'paper_histogram_bos', name: 'histogram (with BOS)', layers: 1, maxHeads: 1 },
    { file: 'paper_histogram_nobos', name: 'histogram (without BOS)', layers: 1, maxHeads: 2 },
    { file: 'paper_double_histogram', name: 'double histogram', layers: 2, maxHeads: 2 },
    { file: 'paper_sort', name: 'sort', layers: 2, maxHeads: 1 },
    { file: 'paper_sort_by_freq', name: 'sort by most frequent', layers: 3, maxHeads: 2 },
    { file: 'paper_dyck1', name: 'Dyck-1 (PTF)', layers: 2, maxHeads: 1 },
    { file: 'paper_dyck2', name: 'Dyck-2 (PTF)', layers: 4, maxHeads: 2 },
];
const tracrRows = [
    { file: 'tracr_length', name: 'length', vocab: 4, n: 5, layers: 1, heads: 1, width: 19,
      mlp: 12, params: 1208 },
    { file: 'tracr_reverse', name: 'reverse', vocab: 3, n: 5, layers: 4, heads: 2, width: 41,
      mlp: 30, params: 18755, paperLayers: 2 },
    { file: 'tracr_histogram', name: 'histogram', vocab: 4, n: 5, layers: 1, heads: 1,
      width: 19, mlp: 12, params: 1208, paperLayers: 1 },
    { file: 'tracr_sort_unique', name: 'sort, unique keys', vocab: 5, n: 5, layers: 2,
      heads: 2, width: 25, mlp: 12, params: 3091, paperLayers: 2 },
    { file: 'tracr_sort', name: 'sort, duplicates allowed', vocab: 5, n: 5, layers: 3,
      heads: 2, width: 50, mlp: 25, params: 24968, paperLayers: 2 },
    { file: 'tracr_sort_freq', name: 'sort by frequency', vocab: 4, n: 5, layers: 5, heads: 3,
      width: 66, mlp: 30, params: 64122, paperLayers: 3 },
    { file: 'tracr_frac_prevs', name: 'fraction of previous "x"', vocab: 4, n: 5, layers: 2,
      heads: 1, width: 14, mlp: 1, params: 1108 },
    { file: 'tracr_pair_balance', name: 'pair balance "(" ")"', vocab: 2, n: 5, layers: 2,
      heads: 2, width: 15, mlp: 4, params: 2222 },
    { file: 'tracr_shuffle_dyck1', name: 'shuffle-Dyck-1', vocab: 2, n: 5, layers: 6, heads: 5,
      width: 38, mlp: 106, params: 64688 },
    { file: 'tracr_shuffle_dyck2', name: 'shuffle-Dyck-2', vocab: 4, n: 5, layers: 8, heads: 7,
      width: 55, mlp: 212, params: 246884 },
    { file: 'tracr_shuffle_dyck2_n10', name: 'shuffle-Dyck-2, N = 10', vocab: 4, n: 10,
      layers: 8, heads: 7, width: 70, mlp: 804, params: 1030000 },
    { file: 'tracr_shift_by_1', name: 'shift by 1', vocab: 4, n: 5, layers: 1, heads: 1,
      width: 16, mlp: 1, params: 726 },
    { file: 'tracr_detect_pattern', name: 'detect pattern "abc", N = 6', vocab: 3, n: 6,
      layers: 3, heads: 2, width: 26, mlp: 6, params: 6558 },
    { file: 'tracr_count_a', name: 'count of "a", N = 8', vocab: 3, n: 8, layers: 1, heads: 1,
      width: 24, mlp: 18, params: 1761 },
    { file: 'tracr_reverse_n10', name: 'reverse, N = 10', vocab: 3, n: 10, layers: 4, heads: 2,
      width: 73, mlp: 110, params: 92000, paperLayers: 2 },
];
const kWidthShare = 0.6;

// Goals met and tried at the default level, for the summary line.
const tally = { paper: [0, 0], layers: [0, 0], width: [0, 0], params: [0, 0] };
function count(goal, ok) {
    if (ok === null) return;
    tally[goal][0] += ok ? 1 : 0;
    tally[goal][1] += 1;
}

function parseArgs(argv) {
    const opt = { build: process.env.RASPC_BUILD || path.join(repo, 'build'),
                  out: path.join(repo, 'bench', 'sizes.md') };
    for (let i = 0; i < argv.length; ++i) {
        if (argv[i] === '--build') opt.build = path.resolve(argv[++i]);
        else if (argv[i] === '--out') opt.out = path.resolve(argv[++i]);
        else throw new Error(`unknown argument '${argv[i]}' (see the comment at the top)`);
    }
    return opt;
}

// One compile: the --json report plus what the model file says about alphabet and length, or
// the compiler's message when it rejects the program.
function compile(raspc, file, level, scratch) {
    const model = path.join(scratch, `${path.basename(file, '.rasp')}${level}.onnx`);
    const args = ['compile', file, '-o', model, '--force', '--json'];
    if (level) args.push(level);
    const start = process.hrtime.bigint();
    const run = spawnSync(raspc, args, { cwd: repo, encoding: 'utf8' });
    const wallMs = Number(process.hrtime.bigint() - start) / 1e6;
    if (run.status !== 0) {
        // Exit 1 is a program raspc refuses (its message says why); anything else is a bug.
        const what = run.status === 1 ? 'rejected'
            : run.signal ? `crashed (${run.signal})` : `internal error (exit ${run.status})`;
        const message = (run.stderr || run.stdout || '').trim().split('\n')[0];
        return { error: message || what, what, wallMs };
    }
    const report = JSON.parse(run.stdout);
    const meta = readMetadata(model);
    report.vocabSize = JSON.parse(meta.get('raspc.vocab')).length;
    report.maxLen = Number(meta.get('raspc.max_len'));
    report.wallMs = wallMs;
    fs.rmSync(model, { force: true });
    return report;
}

// The residual slots of each s-op (bench/slot_report.cpp), when that tool is built.
function slots(tool, file) {
    if (!fs.existsSync(tool)) return null;
    const run = spawnSync(tool, [file], { cwd: repo, encoding: 'utf8' });
    return run.status === 0 ? JSON.parse(run.stdout) : null;
}

function headsPerLayer(r) {
    const counts = new Array(r.layers).fill(0);
    for (const h of r.headList || []) counts[h.layer] += 1;
    return counts;
}

function mlpPerLayer(r) {
    const hidden = new Array(r.layers).fill(0);
    for (const b of r.mlpBlocks || []) hidden[b.layer] += b.hidden;
    return hidden;
}

const group = (n) => n.toLocaleString('en-US');
const ratio = (a, b) => (a / b).toFixed(2);
const mark = (ok) => (ok === null ? 'n/a' : ok ? 'yes' : '**NO**');

// "map histogram (…/prog.rasp:8)" -> "map histogram (line 8)"
function shortLabel(label) {
    return label.replace(/\s*\(([^()]*):(\d+)\)$/, ' (line $2)');
}

// Why a model is deeper than wanted: the layers with no head are MLP steps that could not be
// folded into the layer before; a "tuple" block builds a product space for a selector.
function depthReason(r) {
    const heads = headsPerLayer(r);
    const parts = [];
    for (let l = 0; l < r.layers; ++l) {
        if (heads[l] > 0) continue;
        // Blocks that only erase dead slots ride along; they are not why the layer exists.
        const blocks = (r.mlpBlocks || []).filter((b) => b.layer === l &&
            !/^free dead slots/.test(b.label)).map((b) => shortLabel(b.label));
        parts.push(`layer ${l} holds only MLPs (${blocks.join('; ') || 'none'})`);
    }
    return parts.length ? parts.join('; ') : 'every layer has a head: the chain of attention ' +
        'steps itself is longer than the anchor';
}

// What the residual width is spent on: a constant one and the BOS flag in every model, the
// token and position one-hot dimensions the program reads (unread ones are dropped,
// src/backend/lower.cpp), and the s-ops' own slots.
function widthReason(r, s) {
    if (!s) return `width ${r.width} (build raspc_bench_slots for more)`;
    const embedded = (kind) => s.slots.filter((x) => x.kind === kind)
        .reduce((a, x) => a + x.dims, 0);
    const tokens = embedded('tokens');
    const positions = embedded('indices');
    const numbers = s.positionNumbers ?? 0;
    const fixed = 2 + tokens + positions + numbers;
    const own = s.slots.filter((x) => x.dims > 0 && x.where !== 'embedding');
    const total = own.reduce((a, x) => a + x.dims, 0);
    const list = own.map((x) => `${x.name} ${x.dims}`).join(', ');
    const rest = r.width - fixed - total;
    return `width ${r.width} = one + BOS + ${tokens} token and ${positions} position one-hot ` +
        `dimensions the program reads` +
        (numbers ? ` + ${numbers} position-number dimensions (index codes, squares)` : '') +
        (list ? ` + slots: ${list}` : '') +
        (rest > 0 ? ` + ${rest} unattributed` : rest < 0 ? ` (${-rest} reused)` : '');
}

// Where the dense parameters sit: MLPs (two matrices and biases per block) and heads
// (query, key, value and output maps over the whole residual).
function paramReason(r) {
    const mlp = (r.mlpBlocks || []).reduce((a, b) => a + b.hidden * (2 * r.width + 1), 0);
    const heads = (r.headList || []).reduce((a, h) =>
        a + (2 * h.queryKeyWidth + 2 * h.valueWidth) * r.width, 0);
    return `${group(r.parameters)} dense: MLPs about ${group(mlp)} (hidden ${r.mlpHidden} at ` +
        `width ${r.width}), heads about ${group(heads)}`;
}

function levelName(level) {
    return level || 'default';
}

function paperTable(results, level, lines, misses) {
    lines.push('| program | vocab | N | layers | paper | heads/layer | paper | heads | width | ' +
               'MLP hidden (max/all) | params (non-zero) | compile ms | layers <= paper |');
    lines.push('|---|---|---|---|---|---|---|---|---|---|---|---|---|');
    for (const row of paperRows) {
        const r = results.get(row.file).get(level);
        if (r.error) {
            lines.push(`| ${row.name} | | | ${r.what} | ${row.layers} | | ${row.maxHeads} | | | ` +
                       `| | ${r.wallMs.toFixed(0)} | **NO** |`);
            if (!level) misses.push(`${row.name} (\`${row.file}.rasp\`): ${r.what}: ${r.error}`);
            if (!level) count('paper', false);
            continue;
        }
        const ok = r.layers <= row.layers;
        if (!level) count('paper', ok);
        const heads = headsPerLayer(r);
        lines.push(`| ${row.name} | ${r.vocabSize} | ${r.maxLen} | ${r.layers} | ${row.layers} | ` +
                   `${Math.max(0, ...heads)} | ${row.maxHeads} | ${r.heads} | ${r.width} | ` +
                   `${Math.max(0, ...mlpPerLayer(r))}/${r.mlpHidden} | ${group(r.parameters)} ` +
                   `(${group(r.nonZeroParameters)}) | ${r.wallMs.toFixed(0)} | ${mark(ok)} |`);
        if (!ok && !level) {
            misses.push(`${row.name} (\`${row.file}.rasp\`): ${r.layers} layers, the paper ` +
                        `${row.layers}: ${depthReason(r)}.`);
        }
    }
}

function tracrTable(results, level, slotInfo, lines, misses) {
    lines.push('| program | vocab | N | layers | tracr | heads | tracr | width | tracr | ratio | ' +
               'MLP hidden (max/all) | tracr | params (non-zero) | tracr | ratio | compile ms | ' +
               'fewer layers | width <= 60% | fewer params |');
    lines.push('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
    for (const row of tracrRows) {
        const r = results.get(row.file).get(level);
        if (r.error) {
            lines.push(`| ${row.name} | ${row.vocab} | ${row.n} | ${r.what} | ${row.layers} | | ` +
                       `${row.heads} | | ${row.width} | | | ${row.mlp} | | ` +
                       `${group(row.params)} | | ${r.wallMs.toFixed(0)} | **NO** | **NO** | ` +
                       '**NO** |');
            if (!level) {
                misses.push(`${row.name} (\`${row.file}.rasp\`): ${r.what}: ${r.error}`);
                const layerGoal = row.paperLayers !== undefined && row.layers > row.paperLayers;
                count('layers', layerGoal ? false : null);
                count('width', false);
                count('params', false);
            }
            continue;
        }
        const settingsOk = r.vocabSize === row.vocab && r.maxLen === row.n;
        const layerGoal = row.paperLayers !== undefined && row.layers > row.paperLayers;
        const fewerLayers = layerGoal ? r.layers < row.layers : null;
        const narrow = r.width <= kWidthShare * row.width;
        const fewerParams = r.parameters < row.params;
        const settings = settingsOk ? '' : ' (settings differ from the anchor!)';
        lines.push(`| ${row.name}${settings} | ${r.vocabSize} | ${r.maxLen} | ${r.layers} | ` +
                   `${row.layers} | ${r.heads} | ${row.heads} | ${r.width} | ${row.width} | ` +
                   `${ratio(r.width, row.width)} | ${Math.max(0, ...mlpPerLayer(r))}/` +
                   `${r.mlpHidden} | ${row.mlp} | ${group(r.parameters)} ` +
                   `(${group(r.nonZeroParameters)}) | ${group(row.params)} | ` +
                   `${ratio(r.parameters, row.params)} | ${r.wallMs.toFixed(0)} | ` +
                   `${mark(fewerLayers)} | ${mark(narrow)} | ${mark(fewerParams)} |`);
        if (level) continue;
        count('layers', fewerLayers);
        count('width', narrow);
        count('params', fewerParams);
        const name = `${row.name} (\`${row.file}.rasp\`)`;
        if (!settingsOk) {
            misses.push(`${name}: compiled at vocabulary ${r.vocabSize}, N = ${r.maxLen}; the ` +
                        `anchor is ${row.vocab}, N = ${row.n}.`);
        }
        if (fewerLayers === false) {
            misses.push(`${name}: ${r.layers} layers, tracr ${row.layers} (paper ` +
                        `${row.paperLayers}): ${depthReason(r)}.`);
        }
        if (!narrow) {
            misses.push(`${name}: width ${r.width} > ${kWidthShare * 100}% of tracr's ` +
                        `${row.width} (at most ${Math.floor(kWidthShare * row.width)}): ` +
                        `${widthReason(r, slotInfo.get(row.file))}.`);
        }
        if (!fewerParams) {
            misses.push(`${name}: ${group(r.parameters)} parameters, tracr ` +
                        `${group(row.params)}: ${paramReason(r)}.`);
        }
    }
}

function main() {
    const opt = parseArgs(process.argv.slice(2));
    const raspc = path.join(opt.build, 'raspc');
    if (!fs.existsSync(raspc)) throw new Error(`no raspc at ${raspc} (build first, or --build)`);
    const slotTool = path.join(opt.build, 'bench', 'raspc_bench_slots');

    const help = execFileSync(raspc, ['compile', '--help'], { encoding: 'utf8' });
    const levels = [''];
    if (/(^|[\s,])-O0?\b|--opt/m.test(help)) levels.push('-O0');

    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'raspc_sizes_'));
    const results = new Map();
    const slotInfo = new Map();
    for (const row of [...paperRows, ...tracrRows]) {
        const file = path.join('bench', 'programs', `${row.file}.rasp`);
        const perLevel = new Map();
        for (const level of levels) perLevel.set(level, compile(raspc, file, level, scratch));
        results.set(row.file, perLevel);
        slotInfo.set(row.file, slots(slotTool, file));
    }
    fs.rmSync(scratch, { recursive: true, force: true });

    const version = treeVersion(repo);

    const lines = [];
    const misses = [];
    lines.push('# raspc model sizes against the anchors', '');
    lines.push(wrap(`Generated by \`node bench/sizes.mjs\` from \`bench/programs/\` (tree at ` +
                    `${version}, raspc from ${opt.build}, ` +
                    `${new Date().toISOString().slice(0, 10)}). Figures to beat: ` +
                    '`ANCHORS.md`. How to read this: `bench/README.md`.'));
    if (levels.length === 1) {
        lines.push('', wrap('Only the default optimisation level is shown: this raspc has no ' +
                            '-O0.'));
    }
    for (const level of levels) {
        const suffix = levels.length > 1 ? ` (${levelName(level)})` : '';
        lines.push('', `## RASP paper programs${suffix}`, '');
        paperTable(results, level, lines, misses);
        lines.push('', `## tracr programs${suffix}`, '');
        tracrTable(results, level, slotInfo, lines, misses);
    }

    const t = (goal) => `${tally[goal][0]} of ${tally[goal][1]}`;
    lines.splice(3, 0, '', wrap(`Goals met at the default level: layers at or below the ` +
        `paper's on ${t('paper')} paper programs; strictly fewer layers than tracr on ` +
        `${t('layers')} rows where tracr needs more than the paper; residual width at most 60% ` +
        `of tracr's on ${t('width')} tracr rows; fewer parameters than tracr on ` +
        `${t('params')}. A rejected program misses every goal of its row.`));
    lines.push('', '## Goals missed (default level)', '');
    if (misses.length === 0) lines.push('None.');
    for (const m of misses) lines.push(wrap(`- ${m}`).replace(/\n/g, '\n  '));
    writeReport(opt.out, lines);
}

runMain('sizes', main);
