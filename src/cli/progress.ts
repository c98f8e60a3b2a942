/**
 * Progress on standard error, shown only when a person is watching (a TTY) or `--progress` asks
 * for it, never with `--json` or `--no-progress`. Each line says what it counts (`files`,
 * `chunks`), the bytes done, the rate, and with known totals a percentage and an ETA. On a
 * terminal one line is redrawn (10 times a second); elsewhere a new line is printed at most once
 * a second, only when something changed. `CAIRN_PROGRESS_FPS` sets the rate (as restic's
 * `RESTIC_PROGRESS_FPS`). Numbers are only ever what was done, never what is about to be.
 */
import type { CliIO } from './io.js';
import { formatBytes } from './format.js';

/** What a command reports; each call replaces the previous state. */
export interface ProgressState {
  /** What `count` counts. */
  unit: 'files' | 'chunks';
  count: number;
  totalCount?: number;
  /** Bytes done (read, written or verified); absent when the command counts no bytes. */
  bytes?: number;
  totalBytes?: number;
  /** The file being worked on. */
  current?: string;
}

export interface Progress {
  /** True when updates are displayed (so work done only for the display may be skipped otherwise). */
  readonly shown: boolean;
  update(state: ProgressState): void;
  stop(): void;
}

const HIDE_CURSOR = '\x1b[?25l\x1b[?7l';
const SHOW_CURSOR = '\x1b[?25h\x1b[?7h';
const CLEAR_LINE = '\r\x1b[K';
/** Seconds of history the rate (and so the ETA) is computed over. */
const RATE_WINDOW_S = 10;

/** A progress display for one command run; a no-op unless shown (see the module header). */
export function createProgress(io: CliIO, options: { json?: boolean; progress?: boolean }, write: (text: string) => void = (t) => process.stderr.write(t)): Progress {
  const show = options.json !== true && (options.progress ?? io.isTTY);
  if (!show) return { shown: false, update() {}, stop() {} };
  const tty = io.isTTY;
  const fps = Number(io.env.CAIRN_PROGRESS_FPS);
  const intervalMs = Number.isFinite(fps) && fps > 0 ? Math.max(10, 1000 / fps) : tty ? 100 : 1000;
  const started = Date.now();
  const samples: { t: number; done: number }[] = [];
  let state: ProgressState | undefined;
  let shown = '';
  let timer: NodeJS.Timeout | undefined;

  const render = (): void => {
    if (!state) return;
    const now = Date.now();
    const done = state.bytes ?? state.count;
    samples.push({ t: now, done });
    while (samples.length > 2 && now - samples[0].t > RATE_WINDOW_S * 1000) samples.shift();
    const line = formatLine(state, rateOf(samples, started, now));
    if (tty) {
      const width = process.stderr.columns || 80;
      write(`${CLEAR_LINE}${line.length >= width ? `${line.slice(0, width - 2)}…` : line}`);
      shown = line;
      return;
    }
    // A log gets a line only when the work moved on, not for a new rate alone.
    const moved = formatLine(state, 0);
    if (moved !== shown) write(`${line}\n`);
    shown = moved;
  };
  // On a terminal, other output (warnings, `create --list`) first clears the bar's line, which the
  // next update draws again below it: the two never share a line.
  const plain = { out: io.out, err: io.err, warn: io.warn };
  const clearFirst = <A extends unknown[]>(f: (...a: A) => void) => (...a: A): void => {
    if (timer && shown) { write(CLEAR_LINE); shown = ''; }
    f.apply(io, a);
  };
  return {
    shown: true,
    update(next) {
      state = next;
      if (timer) return;
      if (tty) {
        write(HIDE_CURSOR);
        Object.assign(io, { out: clearFirst(plain.out), err: clearFirst(plain.err), warn: clearFirst(plain.warn) });
      }
      timer = setInterval(render, intervalMs);
      timer.unref();
    },
    stop() {
      if (!timer) return;
      clearInterval(timer);
      timer = undefined;
      if (tty) {
        Object.assign(io, plain);
        write(`${CLEAR_LINE}${SHOW_CURSOR}`);
      }
    },
  };
}

/** Units (bytes, or items when no bytes are counted) per second over the recent window. */
function rateOf(samples: readonly { t: number; done: number }[], started: number, now: number): number {
  const first = samples.length > 1 && now - samples[0].t >= 1000 ? samples[0] : { t: started, done: 0 };
  const last = samples[samples.length - 1];
  return (last.done - first.done) / Math.max(0.001, (last.t - first.t) / 1000);
}

/** `37% | 12/3400 files, 143.05 MiB/1.20 GiB | 42.16 MiB/s | ETA 0:25 | path/being/read` */
export function formatLine(s: ProgressState, rate: number): string {
  const fraction = s.totalBytes !== undefined && s.bytes !== undefined ? s.bytes / Math.max(1, s.totalBytes)
    : s.totalCount !== undefined ? s.count / Math.max(1, s.totalCount) : undefined;
  const parts: string[] = [];
  if (fraction !== undefined) parts.push(`${Math.min(100, Math.floor(fraction * 100))}%`);
  let counts = `${s.count}${s.totalCount === undefined ? '' : `/${s.totalCount}`} ${s.count === 1 && s.totalCount === undefined ? s.unit.slice(0, -1) : s.unit}`;
  if (s.bytes !== undefined) counts += `, ${formatBytes(s.bytes)}${s.totalBytes === undefined ? '' : `/${formatBytes(s.totalBytes)}`}`;
  parts.push(counts);
  parts.push(s.bytes !== undefined ? `${formatBytes(rate)}/s` : `${rate.toFixed(rate < 10 ? 1 : 0)} ${s.unit}/s`);
  if (fraction !== undefined) {
    const left = s.totalBytes !== undefined && s.bytes !== undefined ? s.totalBytes - s.bytes : (s.totalCount ?? 0) - s.count;
    parts.push(`ETA ${rate > 0 ? formatDuration(Math.max(0, left) / rate) : '?'}`);
  }
  if (s.current) parts.push(s.current);
  return parts.join(' | ');
}

/** `42s`, `3:07`, `1:02:03`. */
function formatDuration(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  const pad = (n: number): string => String(n).padStart(2, '0');
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h > 0 ? `${h}:${pad(m)}:${pad(s % 60)}` : `${m}:${pad(s % 60)}`;
}

/**
 * Shows the cursor and turns line wrapping back on (what a running bar turned off), for an exit
 * that cannot stop the bar in order (a second Ctrl-C).
 */
export function restoreTerminal(): void {
  if (process.stderr.isTTY) process.stderr.write(SHOW_CURSOR);
}
