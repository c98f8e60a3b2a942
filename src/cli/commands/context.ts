/** What every command's run function builds before calling the library: URL, env, progress, warnings. */
import type { CliIO } from '../io.js';
import type { OperationContext } from '../library.js';
import { createProgress, type Progress } from '../progress.js';
import { jsonLine } from '../format.js';
import { operation } from '../library.js';

/** The common inputs of every repository command. */
export interface RepoCommandOptions {
  repo: string;
  json?: boolean;
  progress?: boolean;
}

/** The operation context for `options`, with a progress display that the caller must stop. */
export function operationContext(options: RepoCommandOptions, io: CliIO): OperationContext & { progress: Progress } {
  const progress = createProgress(io, options);
  return {
    url: options.repo,
    env: io.env,
    progress,
    onProgress: (p) => progress.update(p),
    onWarning: (message) => io.warn(message),
  };
}

/** Prints `result` as one JSON document with --json, else the human text. */
export function emit(io: CliIO, options: { json?: boolean }, result: unknown, human: () => string): void {
  if (options.json) io.out(jsonLine(result));
  else {
    const text = human();
    if (text) io.out(text.endsWith('\n') ? text : `${text}\n`);
  }
}

/** Runs library operation `name` with `options` and prints its result (the shape of most commands). */
export async function runOperation<O extends RepoCommandOptions, R>(name: string, options: O, io: CliIO, human: (result: R) => string): Promise<R> {
  const ctx = operationContext(options, io);
  try {
    const result = await operation<O, R>(name)(options, ctx);
    emit(io, options, result, () => human(result));
    return result;
  } finally {
    ctx.progress.stop();
  }
}
