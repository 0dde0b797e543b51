// What a node program needs to use a raspc ONNX model: its metadata, token encoding, and
// output decoding that matches the native runner's decode() exactly.
import fs from 'node:fs';

// onnxruntime-node does not expose a model's metadata, so the few top-level fields needed are
// read straight from the protobuf bytes.
function readVarint(bytes, pos) {
    let value = 0;
    let scale = 1;
    for (;;) {
        if (pos >= bytes.length) throw new Error('truncated varint');
        const b = bytes[pos++];
        value += (b & 0x7f) * scale;
        if ((b & 0x80) === 0) return [value, pos];
        scale *= 128;
    }
}

// Calls onField(number, payloadBytes) for each length-delimited field of a message.
function forEachField(bytes, onField) {
    let pos = 0;
    while (pos < bytes.length) {
        let key;
        [key, pos] = readVarint(bytes, pos);
        const field = Math.floor(key / 8);
        const wire = key % 8;
        if (wire === 0) {
            [, pos] = readVarint(bytes, pos);
        } else if (wire === 1) {
            pos += 8;
        } else if (wire === 5) {
            pos += 4;
        } else if (wire === 2) {
            let length;
            [length, pos] = readVarint(bytes, pos);
            if (pos + length > bytes.length)
                throw new Error(`a field of ${length} bytes runs past the end of the data`);
            onField(field, bytes.subarray(pos, pos + length));
            pos += length;
        } else {
            throw new Error(`unsupported protobuf wire type ${wire}`);
        }
        if (pos > bytes.length) throw new Error('a field runs past the end of the data');
    }
}

const kProducerName = 2;    // ModelProto.producer_name
const kMetadataProps = 14;  // ModelProto.metadata_props: {key = 1, value = 2}

/** The metadata properties of the ONNX file at `path`, as a Map. */
export function readMetadata(path) {
    const bytes = fs.readFileSync(path);
    const decoder = new TextDecoder();
    const props = new Map();
    let producer = '';
    try {
        forEachField(bytes, (field, payload) => {
            if (field === kProducerName) producer = decoder.decode(payload);
            if (field !== kMetadataProps) return;
            let key = '';
            let value = '';
            forEachField(payload, (f, p) => {
                if (f === 1) key = decoder.decode(p);
                if (f === 2) value = decoder.decode(p);
            });
            props.set(key, value);
        });
    } catch (e) {
        throw new Error(`${path} is not a readable ONNX file (corrupt or truncated: ${e.message})`);
    }
    // raspc writes its metadata last: a raspc file without it was cut short.
    if (!props.has('raspc.version') && producer === 'raspc')
        throw new Error(`${path} is truncated: written by raspc, but its metadata is missing`);
    if (!props.has('raspc.version'))
        throw new Error(`foreign model: no raspc metadata (producer: ${producer || 'unknown'})`);
    return props;
}

/** The parts of the metadata a runner needs: vocabulary, maximum length and outputs. */
export function describeModel(props) {
    const get = (key) => {
        if (!props.has(key)) throw new Error(`raspc metadata lacks the key '${key}'`);
        return props.get(key);
    };
    const vocab = JSON.parse(get('raspc.vocab'));
    const outputs = JSON.parse(get('raspc.outputs')).map((name) => {
        const field = (f) => get(`raspc.output.${name}.${f}`);
        const kind = field('kind');
        const output = { name, kind, table: JSON.parse(field('table')) };
        const textKey = `raspc.output.${name}.text_entries`;
        if (props.has(textKey)) output.textEntries = JSON.parse(props.get(textKey));
        if (kind === 'numerical') {
            output.numbers = JSON.parse(field('numbers'));
            output.tolerance = JSON.parse(field('tolerance'));
        }
        return output;
    });
    return { vocab, maxLen: Number(get('raspc.max_len')), outputs };
}

/** Token strings to ids; throws on what the native encodeTokens rejects. */
export function encodeTokens(model, tokens) {
    if (tokens.length === 0) throw new Error('empty input: a sequence needs at least one token');
    if (tokens.length > model.maxLen)
        throw new Error(`input has ${tokens.length} tokens, more than the model's maximum ` +
                        `length ${model.maxLen}`);
    return tokens.map((t, i) => {
        const id = model.vocab.indexOf(t);
        if (id < 0) throw new Error(`unknown token '${t}' at position ${i}`);
        return id;
    });
}

/**
 * The table entry of each position of one output of one sequence: its id (categorical), or the
 * entry nearest each number, the earlier on a tie, within the tolerance (numerical). An output
 * of whole numbers without a table gives the numbers' text instead.
 */
function decodeEntries(output, raw) {
    if (output.kind === 'categorical') {
        return Array.from(raw, (id, p) => {
            const i = Number(id);
            if (i === -1)
                throw new Error(`output '${output.name}' at position ${p} is refused by the ` +
                                'model: an aggregate averaged different values on this input, ' +
                                'which no categorical s-op can hold and the interpreter refuses');
            if (i < 0 || i >= output.table.length)
                throw new Error(`output '${output.name}' at position ${p}: id ${i} is outside ` +
                                'its value table');
            return i;
        });
    }
    return Array.from(raw, (v, p) => {
        if (Number.isNaN(v))
            throw new Error(`output '${output.name}' at position ${p} is refused by the model ` +
                            '(NaN): an aggregate averaged different values on this input, ' +
                            'which the interpreter refuses');
        if (output.numbers.length === 0) {
            // Whole numbers too many for a table: the nearest integer, within the tolerance.
            const whole = Math.round(v);
            if (!(Math.abs(v - whole) <= output.tolerance))
                throw new Error(`output '${output.name}' at position ${p}: value ${v} is not ` +
                                `within ${output.tolerance} of a whole number`);
            return String(whole);
        }
        let best = 0;
        let bestDistance = Infinity;
        output.numbers.forEach((n, i) => {
            const distance = Math.abs(n - v);
            if (distance < bestDistance) {
                best = i;
                bestDistance = distance;
            }
        });
        if (!(bestDistance <= output.tolerance))
            throw new Error(`output '${output.name}' at position ${p}: value ${v} is not ` +
                            `within ${output.tolerance} of any table value`);
        return best;
    });
}

/** Decodes one output's raw values (ids or numbers) for one sequence, as the native decode
 * does: table entries, refusing a sequence that mixes strings with other values. */
export function decodeOutput(output, raw) {
    const entries = decodeEntries(output, raw);
    if (output.kind === 'numerical' && output.numbers.length === 0) return entries;
    if (output.textEntries) {
        const first = entries[0];
        entries.forEach((e, p) => {
            if (output.textEntries[e] !== output.textEntries[first])
                throw new Error(`output '${output.name}' mixes strings with other values ` +
                                `(${output.table[first]} at position 0, ${output.table[e]} at ` +
                                `position ${p}), which the interpreter refuses`);
        });
    }
    return entries.map((e) => output.table[e]);
}

/** One int64 [batch, seq] tensor's data for sequences of equal length. */
export function tokensData(sequences) {
    const seq = sequences[0].length;
    const data = new BigInt64Array(sequences.length * seq);
    sequences.forEach((ids, b) => ids.forEach((id, p) => { data[b * seq + p] = BigInt(id); }));
    return data;
}
