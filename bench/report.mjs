// Helpers shared by the benchmark scripts that write Markdown reports.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';

/** A paragraph broken into lines of at most `width` columns, as the repository's Markdown is. */
export function wrap(text, width = 100) {
    const out = [];
    let line = '';
    for (const word of text.split(' ')) {
        if (line && line.length + 1 + word.length > width) {
            out.push(line);
            line = word;
        } else {
            line = line ? `${line} ${word}` : word;
        }
    }
    if (line) out.push(line);
    return out.join('\n');
}

// Writes a report's lines (and a final newline) to `file` and to stdout.
/** The tree a report was measured at: `git describe` of `repo`, or "unknown" outside git. */
export function treeVersion(repo) {
    try {
        return execFileSync('git', ['describe', '--always', '--dirty'],
                            { cwd: repo, encoding: 'utf8' }).trim();
    } catch {
        return 'unknown';
    }
}

export function writeReport(file, lines) {
    const text = lines.join('\n') + '\n';
    fs.writeFileSync(file, text);
    process.stdout.write(text);
}

// Runs a benchmark's main(); an error becomes one line on stderr, prefixed by `name`, and exit 1.
export function runMain(name, main) {
    try {
        main();
    } catch (e) {
        console.error(`${name}: ${e.message}`);
        process.exit(1);
    }
}
