/**
 * The command's view of its process: output streams, environment, working folder and whether a
 * person is watching. Commands take a `CliIO` instead of touching `process`, so tests run them
 * in-process and capture everything they print.
 */
import { createInterface } from 'node:readline/promises';
import type { Interrupt } from './signals.js';

/** Where a command writes and what it may read from its surroundings. */
export interface CliIO {
  /** Standard output: results (tables, JSON lines). */
  out(text: string): void;
  /**
   * Standard output as bytes (`dump`), waiting while the reader is behind (bounded memory). Resolves to false once
   * the reader has gone (closed pipe, as `| head -c 10`): the command stops writing and ends quietly.
   */
  outBytes?(bytes: Uint8Array): Promise<boolean>;
  /** Standard error: progress, warnings, the final error line. */
  err(text: string): void;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** True when standard error is a terminal: progress bars and prompts are allowed. */
  isTTY: boolean;
  /** Counts warnings (vanished or unreadable files...); any warning makes the exit code 1. */
  warn(message: string): void;
  readonly warnings: number;
  /** Standard input as a whole (for `key import -`). */
  readStdin(): Promise<Uint8Array>;
  /** Standard input as a stream of fresh buffers, read as consumed (for `create NAME -`). */
  stdin?(): AsyncIterable<Uint8Array>;
  /** True when standard input is a terminal (nothing piped in). */
  stdinIsTTY?: boolean;
  /** Asks `question` on the terminal and resolves to the typed line; undefined when there is no terminal. */
  readLine?(question: string): Promise<string | undefined>;
  /** The first SIGINT/SIGTERM, for commands that stop cleanly (see signals.ts); absent when run in-process. */
  interrupt?: Interrupt;
}

/** The `CliIO` of the running process; `interrupt` comes from `watchSignals()`. */
export function createProcessIO(interrupt?: Interrupt): CliIO {
  let warnings = 0;
  // A reader that stops early (`cairn list NAME | head`) closes the pipe: drop further output, as
  // other tools do, instead of dying on an unhandled EPIPE; the command still finishes normally.
  let stdoutClosed = false;
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    stdoutClosed = true;
  });
  return {
    out: (text) => { if (!stdoutClosed) process.stdout.write(text); },
    outBytes: (bytes) => new Promise<boolean>((done) => {
      if (stdoutClosed) { done(false); return; }
      const onError = (): void => done(false);
      process.stdout.once('error', onError);
      const finish = (): void => { process.stdout.off('error', onError); done(!stdoutClosed); };
      if (process.stdout.write(bytes)) finish(); else process.stdout.once('drain', finish);
    }),
    err: (text) => { process.stderr.write(text); },
    env: process.env,
    cwd: process.cwd(),
    isTTY: process.stderr.isTTY === true,
    warn(message) {
      warnings++;
      process.stderr.write(`cairn: warning: ${message}\n`);
    },
    get warnings() { return warnings; },
    async readStdin() {
      const parts: Buffer[] = [];
      for await (const part of process.stdin) parts.push(part as Buffer);
      return Buffer.concat(parts);
    },
    stdin: () => process.stdin,
    stdinIsTTY: process.stdin.isTTY === true,
    async readLine(question) {
      if (!process.stdin.isTTY || !process.stderr.isTTY) return undefined;
      const rl = createInterface({ input: process.stdin, output: process.stderr });
      try {
        return await rl.question(question);
      } finally {
        rl.close();
      }
    },
    interrupt,
  };
}

/** A `CliIO` that records everything, for tests. */
export function createMemoryIO(options: { env?: NodeJS.ProcessEnv; cwd?: string; stdin?: Uint8Array } = {}): CliIO & { stdout: string; stderr: string; stdoutBytes: Uint8Array[] } {
  let warnings = 0;
  const io = {
    stdout: '',
    stdoutBytes: [] as Uint8Array[],
    outBytes: async (bytes: Uint8Array) => { io.stdoutBytes.push(bytes.slice()); return true; },
    stderr: '',
    out(text: string) { io.stdout += text; },
    err(text: string) { io.stderr += text; },
    env: options.env ?? {},
    cwd: options.cwd ?? process.cwd(),
    isTTY: false,
    warn(message: string) { warnings++; io.stderr += `cairn: warning: ${message}\n`; },
    get warnings() { return warnings; },
    readStdin: async () => options.stdin ?? new Uint8Array(),
    async *stdin() { if (options.stdin?.length) yield options.stdin; },
    stdinIsTTY: false,
  };
  return io;
}
