/**
 * Real-looking file contents for the benchmark dataset: prose, source code, JSON records and log
 * lines, built from a seeded PRNG so they compress like real files (about 3-5x), not like zeros.
 */
import { Prng } from './prng.js';

const COMMON = ('the of and to in is that for it as was with be by on not he this are or his from at which but have an they you were her ' +
  'she there been one all we their has would when if so no will more can out up about into than them some could only other time new these ' +
  'two may first then do any like my now over such our man me even most made after also did many before must through back years where much ' +
  'your way well down should because each just those people how too little state good very make world still own see men work long get here').split(' ');
const SYLLABLES = 'ka ro mi te lu na si po ve da ri co ne ba tu li ma so fe gi ha jo ku le mo nu pa qui ra sa ti vo wa xe yo za'.split(' ');

/** A vocabulary of common words plus made-up ones, fixed per seed. */
export function makeVocabulary(prng: Prng, size = 3000): string[] {
  const words = [...COMMON];
  while (words.length < size) {
    let w = '';
    const n = 2 + prng.int(3);
    for (let i = 0; i < n; i++) w += prng.pick(SYLLABLES);
    words.push(w);
  }
  return words;
}

/** Zipf-like pick: common words far more often than rare ones, as in real text. */
function word(prng: Prng, vocab: readonly string[]): string {
  return vocab[Math.floor(vocab.length * prng.float() ** 3)]!;
}

function sentence(prng: Prng, vocab: readonly string[]): string {
  const n = 6 + prng.int(14);
  const parts: string[] = [];
  for (let i = 0; i < n; i++) parts.push(word(prng, vocab));
  const s = parts.join(' ');
  return s[0]!.toUpperCase() + s.slice(1) + (prng.int(8) === 0 ? '?' : '.');
}

/** Paragraphs of prose, about `size` bytes. */
export function prose(prng: Prng, vocab: readonly string[], size: number): string {
  const out: string[] = [];
  let length = 0;
  while (length < size) {
    const sentences: string[] = [];
    for (let i = 2 + prng.int(6); i > 0; i--) sentences.push(sentence(prng, vocab));
    const p = sentences.join(' ') + '\n\n';
    out.push(p);
    length += p.length;
  }
  return out.join('').slice(0, size);
}

function identifier(prng: Prng, vocab: readonly string[]): string {
  const a = word(prng, vocab);
  const b = word(prng, vocab);
  return a + b[0]!.toUpperCase() + b.slice(1);
}

/** TypeScript-like source code, about `size` bytes. */
export function source(prng: Prng, vocab: readonly string[], size: number): string {
  const out: string[] = [`// ${sentence(prng, vocab)}\nimport { ${identifier(prng, vocab)} } from './${word(prng, vocab)}.js';\n\n`];
  let length = out[0]!.length;
  while (length < size) {
    const name = identifier(prng, vocab);
    const lines = [`/** ${sentence(prng, vocab)} */`, `export function ${name}(${word(prng, vocab)}: number, ${word(prng, vocab)}: string): string {`];
    for (let i = 1 + prng.int(8); i > 0; i--) {
      const v = identifier(prng, vocab);
      lines.push(prng.int(3) === 0
        ? `  if (${v} > ${prng.int(1000)}) return '${word(prng, vocab)}';`
        : `  const ${v} = ${identifier(prng, vocab)}(${prng.int(100)}, '${word(prng, vocab)}');`);
    }
    lines.push(`  return ${identifier(prng, vocab)}.toString();`, '}', '', '');
    const block = lines.join('\n');
    out.push(block);
    length += block.length;
  }
  return out.join('').slice(0, size);
}

/** A JSON array of records, about `size` bytes (always valid JSON). */
export function jsonRecords(prng: Prng, vocab: readonly string[], size: number): string {
  const records: string[] = [];
  let length = 2;
  while (length < size) {
    const r = JSON.stringify({
      id: prng.next(),
      name: `${word(prng, vocab)} ${word(prng, vocab)}`,
      email: `${word(prng, vocab)}.${word(prng, vocab)}@example.org`,
      active: prng.int(2) === 1,
      score: Math.round(prng.float() * 100000) / 100,
      tags: [word(prng, vocab), word(prng, vocab)],
      created: new Date(1.6e12 + prng.int(1e11)).toISOString(),
    });
    records.push(r);
    length += r.length + 2;
  }
  return `[\n${records.join(',\n')}\n]\n`;
}

const LEVELS = ['INFO', 'INFO', 'INFO', 'DEBUG', 'WARN', 'ERROR'];
const METHODS = ['GET', 'GET', 'GET', 'POST', 'PUT', 'DELETE'];

/** Lines of an application log, about `size` bytes. */
export function logLines(prng: Prng, vocab: readonly string[], size: number, startMs = 1.7e12): string {
  const out: string[] = [];
  let length = 0;
  let t = startMs;
  while (length < size) {
    t += prng.int(2000);
    const line = `${new Date(t).toISOString()} ${prng.pick(LEVELS)} [worker-${prng.int(16)}] ${prng.pick(METHODS)} /api/v1/${word(prng, vocab)}/${prng.int(100000)} ` +
      `status=${prng.int(10) === 0 ? 500 : 200} ms=${prng.int(900)} user=${word(prng, vocab)}\n`;
    out.push(line);
    length += line.length;
  }
  return out.join('');
}
