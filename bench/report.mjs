// Helpers shared by the benchmark scripts that write Markdown reports.

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
