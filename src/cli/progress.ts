/**
 * A progress bar on standard error (files, bytes, rate, ETA when the total is known), shown only
 * when a person is watching: a TTY, no `--json`, no `--no-progress`. Otherwise every call is a no-op.
 */
import cliProgress from 'cli-progress';
import type { CliIO } from './io.js';
import { formatBytes } from './format.js';

export interface Progress {
  update(state: { files: number; bytes: number; totalBytes?: number }): void;
  stop(): void;
}

/** A progress display for one command run. */
export function createProgress(io: CliIO, options: { json?: boolean; progress?: boolean }): Progress {
  const show = options.progress ?? (io.isTTY && options.json !== true);
  if (!show) return { update() {}, stop() {} };
  const started = Date.now();
  let bar: cliProgress.SingleBar | undefined;
  let running = false;
  return {
    update({ files, bytes, totalBytes }) {
      const payload = { files, done: formatBytes(bytes), rate: formatBytes(bytes / Math.max(0.001, (Date.now() - started) / 1000)) };
      if (!bar) {
        // Without a known total (create walks as it goes) there is no bar, percentage or ETA to show.
        bar = new cliProgress.SingleBar({
          stream: process.stderr,
          format: totalBytes === undefined ? '{files} files | {done} | {rate}/s' : '{bar} {percentage}% | {files} files | {done} | {rate}/s | ETA {eta_formatted}',
          hideCursor: true,
          clearOnComplete: true,
          etaBuffer: 50,
          // cairn handles SIGINT/SIGTERM itself (signals.ts) and stops the bar while cleaning up.
          gracefulExit: false,
        }, cliProgress.Presets.shades_classic);
      }
      if (!running) { bar.start(totalBytes ?? 1, bytes, payload); running = true; }
      if (totalBytes !== undefined) bar.setTotal(totalBytes);
      bar.update(bytes, payload);
    },
    stop() { if (running) bar?.stop(); running = false; },
  };
}

/**
 * Shows the cursor and turns line wrapping back on (what a running bar turned off), for an exit
 * that cannot stop the bar in order (a second Ctrl-C).
 */
export function restoreTerminal(): void {
  if (process.stderr.isTTY) process.stderr.write('\x1b[?25h\x1b[?7h');
}
