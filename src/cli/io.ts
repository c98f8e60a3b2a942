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
export function createMemoryIO(options: { env?: NodeJS.ProcessEnv; cwd?: string; stdin?: Uint8Array } = {}): CliIO & { stdout: string; stderr: string } {
  let warnings = 0;
  const io = {
    stdout: '',
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
