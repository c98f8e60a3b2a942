/**
 * What a user sees while the store is failing and cairn rides it out: one line on standard error
 * when a streak of failures begins (the first failure, and how long retries may go on), a reminder
 * at most every `REMINDER_MS` while it lasts, and one line when every failing request has
 * succeeded again. The counts go to the summary line ("N retries"); the lines carry only the
 * store's error message (operation, key, the service's code), never credentials.
 */
import type { RecoveredInfo, RetryInfo } from '../index.js';
import type { CliIO } from './io.js';

/** While a streak lasts, at most one "still retrying" line per this long. */
export const REMINDER_MS = 5 * 60_000;

/** `14m 30s`, `45s`, `1h 2m`: a duration for people, to the second. */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return s % 60 ? `${m}m ${s % 60}s` : `${m}m`;
  return m % 60 ? `${Math.floor(m / 60)}h ${m % 60}m` : `${Math.floor(m / 60)}h`;
}

/** The retry listeners of a command's store, printing through `io.err`. */
export function retryNotices(io: CliIO, now: () => number = Date.now): { onRetry(info: RetryInfo): void; onRecovered(info: RecoveredInfo): void } {
  /** Requests now between a failure and their next success. */
  let failing = 0;
  let streakStart = 0;
  let streakRetries = 0;
  let lastLine = 0;
  const print = (text: string) => {
    // On a terminal a progress bar may be drawn on the current line: start a clean one.
    io.err(`${io.isTTY ? '\r\x1b[K' : ''}cairn: ${text}\n`);
    lastLine = now();
  };
  return {
    onRetry(info) {
      if (info.attempt === 1) failing++;
      const starting = streakRetries === 0;
      streakRetries++;
      const what = info.error instanceof Error ? (info.error.message.split('\n')[0] ?? '').slice(0, 200) : String(info.error).slice(0, 200);
      const left = formatDuration(info.budgetMs - info.elapsedMs);
      if (starting) {
        streakStart = now();
        print(`${what}; retrying for up to ${left}`);
      } else if (now() - lastLine >= REMINDER_MS) {
        print(`still retrying after ${formatDuration(now() - streakStart)} (${streakRetries} retries so far; last: ${what}; up to ${left} more)`);
      }
    },
    onRecovered() {
      failing = Math.max(0, failing - 1);
      if (failing > 0 || streakRetries === 0) return;
      print(`the store answers again: recovered after ${streakRetries} ${streakRetries === 1 ? 'retry' : 'retries'} in ${formatDuration(now() - streakStart)}`);
      streakRetries = 0;
    },
  };
}
