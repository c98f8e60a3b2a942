/**
 * Key export forms. `text`: "-----BEGIN CAIRN KEY-----", the blob in base64 (64 columns), "-----END CAIRN KEY-----".
 * `paper`: for printing and typing back: a title line, then lines "NN: hhhh hhhh … - cc" of up to 18 blob bytes
 * (NN = line number from 1, decimal), where cc = first byte of SHA-256(u16 BE line number | line bytes) in hex,
 * so a typo is reported with its line. Both forms are accepted by importKey, which also checks the blob itself.
 */
import { createHash } from 'node:crypto';
import { KeyCorruptError } from '../errors.js';
import { inspectKeyBlob } from './key-blob.js';

export type ExportFormat = 'text' | 'paper';

const BEGIN = '-----BEGIN CAIRN KEY-----';
const END = '-----END CAIRN KEY-----';
const PAPER_TITLE = 'CAIRN KEY (paper form, v1) — type every line; the two digits after "-" check the line';
const PER_LINE = 18;

/** Renders a key blob as printable text. The blob stays sealed: the paper still needs the passphrase. */
export function exportKey(blob: Uint8Array, format: ExportFormat = 'text'): string {
  inspectKeyBlob(blob);
  if (format === 'text') {
    const b64 = Buffer.from(blob).toString('base64').replace(/(.{64})/g, '$1\n').trimEnd();
    return `${BEGIN}\n${b64}\n${END}\n`;
  }
  const lines = [PAPER_TITLE];
  for (let at = 0, n = 1; at < blob.length; at += PER_LINE, n++) {
    const bytes = blob.subarray(at, at + PER_LINE);
    const hex = Buffer.from(bytes).toString('hex').replace(/(.{4})(?=.)/g, '$1 ');
    lines.push(`${String(n).padStart(2, '0')}: ${hex} - ${lineCheck(n, bytes)}`);
  }
  return lines.join('\n') + '\n';
}

/** Parses either export form back into the blob; KeyCorruptError names the first bad paper line. */
export function importKey(text: string): Uint8Array {
  let blob: Uint8Array;
  if (text.includes(BEGIN)) {
    const start = text.indexOf(BEGIN) + BEGIN.length;
    const end = text.indexOf(END, start);
    if (end < 0) throw new KeyCorruptError('exported key has no END line');
    const b64 = text.slice(start, end).replace(/\s+/g, '');
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64)) throw new KeyCorruptError('exported key is not base64');
    blob = new Uint8Array(Buffer.from(b64, 'base64'));
  } else {
    const parts: Uint8Array[] = [];
    let expected = 1;
    for (const raw of text.split(/\r?\n/)) {
      const m = /^\s*(\d+)\s*:\s*([0-9a-fA-F\s]+?)\s*-\s*([0-9a-fA-F]{2})\s*$/.exec(raw);
      if (!m) continue;
      const n = Number(m[1]);
      const hex = m[2].replace(/\s+/g, '');
      if (n !== expected || hex.length % 2 !== 0) throw new KeyCorruptError(`paper key line ${expected} is missing or malformed`);
      const bytes = new Uint8Array(Buffer.from(hex, 'hex'));
      if (lineCheck(n, bytes) !== m[3].toLowerCase()) throw new KeyCorruptError(`paper key line ${n} has a typo (check digits differ)`);
      parts.push(bytes);
      expected++;
    }
    if (parts.length === 0) throw new KeyCorruptError('no key found in the text');
    blob = new Uint8Array(Buffer.concat(parts));
  }
  inspectKeyBlob(blob);
  return blob;
}

function lineCheck(n: number, bytes: Uint8Array): string {
  const prefix = new Uint8Array([n >> 8, n & 0xff]);
  return createHash('sha256').update(prefix).update(bytes).digest('hex').slice(0, 2);
}
