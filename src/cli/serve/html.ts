/**
 * HTML building blocks of `cairn serve`: escaping (every text from the repository goes through `esc`), links with
 * query strings, and the page frame with its navigation.
 */

/** Text or attribute value, escaped for HTML. */
export function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** `/path?k=v&…`, values URL-encoded (undefined values left out). */
export function href(path: string, params: Record<string, string | number | undefined> = {}): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) q.set(k, String(v));
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}

/** A time from nanoseconds since the epoch, `2026-12-07 02:10:20` (UTC, to the second). */
export function timeText(ns: bigint): string {
  return new Date(Number(ns / 1_000_000n)).toISOString().replace('T', ' ').slice(0, 19);
}

const NAV: [string, string][] = [['/', 'Archives'], ['/search', 'Search'], ['/diff', 'Diff'], ['/facts', 'Repository']];

/** A whole page: `title`, the navigation with `active` marked, the repository's name, and `body`. */
export function page(title: string, active: string, repo: string, body: string): string {
  const nav = NAV.map(([path, label]) => `<a href="${path}"${path === active ? ' class="on"' : ''}>${label}</a>`).join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)} · cairn</title><link rel="stylesheet" href="/assets/app.css"><script src="/assets/app.js" defer></script></head>
<body><header><span class="brand">cairn</span><nav>${nav}</nav><span class="repo" title="read-only">${esc(repo)} · read-only</span></header>
<main>${body}</main></body></html>
`;
}
