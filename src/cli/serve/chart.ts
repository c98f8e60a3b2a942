/**
 * The archive list's chart, as inline SVG (no script, no library): one bar per archive for the data it added (stored
 * bytes, as its record says), oldest on the left, and a line for the repository's size after each archive (the sum
 * of what was added so far). Archives are spaced evenly, in time order, with their dates under the axis.
 */
import { esc } from './html.js';

export interface ChartPoint {
  name: string;
  /** Nanoseconds since the epoch. */
  time: bigint;
  /** Bytes this archive added (stored, compressed and encrypted). */
  added: number;
}

const W = 960;
const H = 230;
const PAD = { left: 64, right: 64, top: 14, bottom: 34 };

/** The SVG, or a note when there is nothing to draw. `size` formats bytes. */
export function archiveChart(points: readonly ChartPoint[], size: (n: number) => string): string {
  if (points.length === 0) return '<p class="muted">No archives yet.</p>';
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const maxAdded = Math.max(1, ...points.map((p) => p.added));
  let sum = 0;
  const totals = points.map((p) => (sum += p.added));
  const maxTotal = Math.max(1, sum);
  const step = plotW / points.length;
  const barW = Math.max(1, Math.min(40, step * 0.7));
  const x = (i: number): number => PAD.left + step * (i + 0.5);
  const yBar = (v: number): number => PAD.top + plotH - (v / maxAdded) * plotH;
  const yLine = (v: number): number => PAD.top + plotH - (v / maxTotal) * plotH;
  // Dates, or dates and times (UTC) when the archives span less than three days.
  const short = Number(points[points.length - 1].time - points[0].time) < 3 * 86_400e9;
  const date = (t: bigint): string => new Date(Number(t / 1_000_000n)).toISOString().slice(short ? 5 : 0, short ? 16 : 10).replace('T', ' ');
  const out: string[] = [`<svg viewBox="0 0 ${W} ${H}" role="img" aria-label="Repository size and data added per archive">`];
  for (const f of [0, 0.5, 1]) {
    const y = PAD.top + plotH - f * plotH;
    out.push(`<line class="grid" x1="${PAD.left}" x2="${W - PAD.right}" y1="${y}" y2="${y}"/>`);
    out.push(`<text x="${PAD.left - 6}" y="${y + 4}" text-anchor="end">${esc(size(maxAdded * f))}</text>`);
    out.push(`<text x="${W - PAD.right + 6}" y="${y + 4}">${esc(size(maxTotal * f))}</text>`);
  }
  points.forEach((p, i) => {
    const y = yBar(p.added);
    out.push(`<rect class="bar" x="${(x(i) - barW / 2).toFixed(1)}" y="${y.toFixed(1)}" width="${barW.toFixed(1)}" height="${(PAD.top + plotH - y).toFixed(1)}"><title>${esc(`${p.name}: added ${size(p.added)}, repository ${size(totals[i])}`)}</title></rect>`);
  });
  out.push(`<polyline class="line" points="${points.map((_, i) => `${x(i).toFixed(1)},${yLine(totals[i]).toFixed(1)}`).join(' ')}"/>`);
  if (points.length <= 60) points.forEach((_, i) => out.push(`<circle class="dot" cx="${x(i).toFixed(1)}" cy="${yLine(totals[i]).toFixed(1)}" r="2.5"/>`));
  const ticks = points.length <= 6 ? points.map((_, i) => i) : [0, Math.floor((points.length - 1) / 3), Math.floor((2 * (points.length - 1)) / 3), points.length - 1];
  for (const i of ticks) out.push(`<text x="${x(i).toFixed(1)}" y="${H - 12}" text-anchor="middle">${esc(date(points[i].time))}</text>`);
  out.push('</svg>');
  return out.join('');
}
