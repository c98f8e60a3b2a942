/**
 * Runs one command line and turns its outcome into an exit code (0 ok, 1 warnings, 2 error) and
 * any error into one line on standard error. The only such mapping in cairn; `main.ts` calls it.
 */
import { CommanderError } from 'commander';
import { describeError } from './errors.js';
import type { CliIO } from './io.js';
import { createProgram } from './program.js';
import { SIGNAL_EXIT } from './signals.js';
import { InterruptedError } from '../index.js';

/**
 * Whether the error line is JSON: `--json` among the options (before any `--`), looked up in argv
 * itself so that a usage error found before the options are parsed is JSON too.
 */
function wantsJson(argv: readonly string[]): boolean {
  const end = argv.indexOf('--');
  return (end === -1 ? argv : argv.slice(0, end)).includes('--json');
}

/** The error line: `cairn: MESSAGE`, or with --json `{"error": {"code", "message"}}` (one line, standard error). */
export function errorLine(err: unknown, json: boolean, message = describeError(err)): string {
  if (!json) return `cairn: ${message}\n`;
  const code = (err as { code?: unknown } | null)?.code;
  return `${JSON.stringify({ error: { code: typeof code === 'string' ? code : 'EUNEXPECTED', message } })}\n`;
}

/** Runs `argv` (without node and the script) and resolves to the exit code; never throws. */
export async function runMain(argv: readonly string[], io: CliIO): Promise<number> {
  const json = wantsJson(argv);
  try {
    await createProgram(io, { jsonErrors: json }).parseAsync([...argv], { from: 'user' });
    return io.warnings > 0 ? 1 : 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version end as "errors" with exit code 0; usage mistakes were already printed by commander.
      return err.exitCode === 0 ? 0 : 2;
    }
    io.err(errorLine(err, json));
    // Interrupted and cleaned up: exit as a shell reports that signal (130, 143).
    if (err instanceof InterruptedError) return SIGNAL_EXIT[err.signal] ?? 2;
    return 2;
  }
}
