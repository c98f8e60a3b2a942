/**
 * Where `create` finds its sources besides the PATH arguments: `--files-from FILE` (restic's: one
 * path per line, `#` comments, folders walked) and `--paths-from-stdin` (Borg's: a list of every
 * path to store, split at `--paths-delimiter`, folders stored without their contents).
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { UsageError } from './errors.js';
import type { CliIO } from './io.js';

export interface SourceOptions {
  paths: readonly string[];
  filesFrom?: readonly string[];
  pathsFromStdin?: boolean;
  /** Separator of `--paths-from-stdin` (default a newline); `\0`, `\n`, `\t` escapes are understood. */
  pathsDelimiter?: string;
}

/** The sources to walk, and whether folders among them are walked (false for `--paths-from-stdin`). */
export interface Sources {
  paths: string[];
  recursive: boolean;
}

/** `\0` → NUL, `\n` → newline, `\t` → tab, `\\` → backslash; other text is taken as it is. */
export function parseDelimiter(text: string): string {
  const out = text.replace(/\\(0|n|t|r|\\)/g, (_all, c: string) => ({ 0: '\0', n: '\n', t: '\t', r: '\r', '\\': '\\' })[c]!);
  if (out === '') throw new UsageError('--paths-delimiter is empty: give a separator such as "\\0" (find -print0) or "\\n"');
  return out;
}

/** The lines of a `--files-from` file that name paths: blank lines and `#` comments are left out, a trailing CR is dropped. */
export function filesFromLines(text: string): string[] {
  return text.split('\n').map((l) => l.replace(/\r$/, '')).filter((l) => l.trim() !== '' && !l.trimStart().startsWith('#'));
}

/** Collects the sources; usage errors for combinations that cannot work (exit 2, nothing written). */
export async function collectSources(options: SourceOptions, io: CliIO): Promise<Sources> {
  if (options.pathsDelimiter !== undefined && !options.pathsFromStdin) throw new UsageError('--paths-delimiter goes with --paths-from-stdin');
  if (options.pathsFromStdin) {
    if (options.paths.length > 0 || options.filesFrom?.length) throw new UsageError('--paths-from-stdin names every source: drop the PATH arguments and --files-from');
    if (io.stdinIsTTY) throw new UsageError('--paths-from-stdin reads paths from standard input, but it is a terminal: pipe them in, e.g. find . -print0 | cairn create NAME --paths-from-stdin --paths-delimiter "\\0"');
    const text = Buffer.from(await io.readStdin()).toString('utf8');
    const paths = text.split(parseDelimiter(options.pathsDelimiter ?? '\n')).filter((p) => p !== '');
    if (paths.length === 0) throw new UsageError('--paths-from-stdin read no path from standard input: nothing to back up');
    return { paths, recursive: false };
  }
  const paths = [...options.paths];
  for (const file of options.filesFrom ?? []) {
    let text: string;
    try {
      text = await readFile(resolve(io.cwd, file), 'utf8');
    } catch (error) {
      throw new UsageError(`--files-from ${file}: cannot read it (${(error as NodeJS.ErrnoException).code ?? 'error'}); give a file with one path per line`);
    }
    const lines = filesFromLines(text);
    if (lines.length === 0) throw new UsageError(`--files-from ${file} names no path (blank lines and # comments only): nothing to back up from it`);
    paths.push(...lines);
  }
  if (paths.length === 0) throw new UsageError('give the PATHs to back up (or "-" for standard input, --files-from FILE, or --paths-from-stdin)');
  return { paths, recursive: true };
}
