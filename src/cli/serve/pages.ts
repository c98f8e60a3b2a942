/**
 * The pages of `cairn serve`, rendered on the server: the archive list with its chart, a folder of an archive (the
 * script fills the long list), one file with its preview, search by name across archives, the versions of one path
 * side by side, the diff of two archives, and the repository's facts. Each returns HTML; nothing here writes.
 */
import { diffArchives, idKeyFingerprint, readCheckRecord, listItems, modeText, pathText, redactUrl, type DiffChange, type Item, type TreeEntry } from '../../index.js';
import { formatBytes, formatSize } from '../format.js';
import { archiveChart } from './chart.js';
import { esc, href, page, timeText } from './html.js';
import type { ServeView } from './view.js';

/** Bytes of a file shown in a text preview. */
export const PREVIEW_BYTES = 256 * 1024;
/** Paths listed by a search at most (each with every version). */
const SEARCH_PATHS = 200;
/** Diff rows shown at most. */
const DIFF_ROWS = 5000;

const IMAGE = /\.(png|jpe?g|gif|webp|bmp|ico|avif)$/i;

/** What a page handler needs besides the view. */
export interface PageContext {
  view: ServeView;
  /** How the repository is named in the header (redacted URL). */
  repo: string;
  params: URLSearchParams;
  /** The environment that locates this machine's cache (the last check recorded there). */
  env: NodeJS.ProcessEnv;
}

const owner = (e: { user?: string; group?: string; uid: number; gid: number }): string => `${e.user ?? e.uid}:${e.group ?? e.gid}`;

export async function archivesPage({ view, repo, params }: PageContext): Promise<string> {
  const records = await view.archives();
  const filter = params.get('filter') ?? '';
  const chart = archiveChart(records.filter((r) => !r.checkpoint).map((r) => ({ name: r.name, time: r.start, added: r.stats.compressed })), formatSize);
  const rows = [...records].reverse().map((r) => `<tr data-filter="${esc(`${r.name} ${r.host} ${r.user} ${r.tags.join(' ')} ${r.comment}`)}">
<td><a href="${esc(href('/browse', { archive: r.name }))}">${esc(r.name)}</a>${r.checkpoint ? ' <span class="tag warn">checkpoint</span>' : ''}${r.tags.map((t) => ` <span class="tag">${esc(t)}</span>`).join('')}</td>
<td>${esc(timeText(r.start))}</td><td>${esc(r.host)}</td><td class="num">${esc(formatSize(r.stats.original))}</td>
<td class="num">${esc(formatSize(r.stats.deduplicated))}</td><td class="num">${r.stats.files.toLocaleString('en')}</td></tr>`).join('\n');
  const unreadable = [...view.unreadable].map(([name, why]) => `<li>${esc(name)}: ${esc(why)}</li>`).join('');
  const options = (chosen: string | undefined): string => [...records].reverse().map((r) => `<option${r.name === chosen ? ' selected' : ''}>${esc(r.name)}</option>`).join('');
  const body = `<h1>Archives <span class="muted">(${records.length})</span></h1>
<div class="card chart">${chart}<div class="legend"><span class="sw bars"></span>data added by each archive (stored)<span class="sw linec"></span>repository size after it</div></div>
${unreadable ? `<div class="card error">Archive records that cannot be read (skipped): <ul>${unreadable}</ul></div>` : ''}
<div class="card"><div class="toolbar"><input type="search" id="filter" placeholder="Filter by name, host, tag…" value="${esc(filter)}" data-filter-rows="#archives tbody tr" data-count="shown" autofocus>
<span class="muted"><span id="shown">${records.length}</span> shown</span>
<form class="toolbar" action="/diff" method="get"><span class="muted">Diff</span><select name="a">${options(records[records.length - 2]?.name)}</select><span class="muted">→</span><select name="b">${options(records[records.length - 1]?.name)}</select><button type="submit">Compare</button></form></div>
<table id="archives"><thead><tr><th>Name</th><th>Time (UTC)</th><th>Host</th><th class="num">Size</th><th class="num">Dedup size</th><th class="num">Files</th></tr></thead>
<tbody>${rows}</tbody></table></div>`;
  return page('Archives', '/', repo, body);
}

export async function browsePage(ctx: PageContext): Promise<string> {
  const { view, repo, params } = ctx;
  const archive = params.get('archive') ?? '';
  const path = (params.get('path') ?? '').replace(/^\/+|\/+$/g, '');
  const tree = await view.tree(archive);
  const entry = await tree.stat(path);
  if (!entry) throw new NotFound(`"${path}" is not in archive ${archive}`);
  if (entry.type !== 'dir') return filePage(ctx);
  const body = `<h1>${esc(archive)} <span class="muted">${esc(timeText(tree.record.start))} · ${esc(tree.record.host)}</span></h1>
<div class="card" id="browser" data-archive="${esc(archive)}" data-path="${esc(path)}">
<div class="toolbar"><div class="crumbs" id="crumbs"><a href="${esc(href('/browse', { archive }))}">${esc(archive)}</a>${esc(path ? ` / ${path.split('/').join(' / ')}` : '')}</div></div>
<div class="toolbar"><span class="muted"><span id="count">${entry.children ?? 0}</span> entries</span>
<a class="button" id="tar" href="${esc(href('/tar', { archive, path }))}">Download folder (.tar)</a></div>
<div class="vhead"><span>Name</span><span class="num">Size</span><span>Mode</span><span>Owner</span><span>Modified (UTC)</span></div>
<div class="vlist"><div class="spacer"></div></div>
<noscript><p>The folder list needs JavaScript; <a href="${esc(href('/api/list', { archive, path }))}">its JSON</a> works without.</p></noscript></div>`;
  return page(archive, '', repo, body);
}

/** One row of the folder list, formatted for the script. */
export function listRow(archive: string, e: TreeEntry): Record<string, string> {
  const row: Record<string, string> = {
    name: e.name, path: e.path, type: e.type, size: e.type === 'dir' ? formatSize(e.total ?? 0) : e.type === 'file' ? formatSize(e.size) : '',
    mode: modeText(e.mode), owner: owner(e), mtime: timeText(e.mtimeNs),
    href: e.type === 'dir' ? href('/browse', { archive, path: e.path }) : href('/file', { archive, path: e.path }),
  };
  if (e.linkTarget !== undefined) row.link = e.linkTarget;
  return row;
}

/** Whether `bytes` (the start of a file) look like text: no NUL, and valid UTF-8 but for a cut at the end. */
export function looksLikeText(bytes: Uint8Array): boolean {
  if (bytes.includes(0)) return false;
  try {
    // `stream`: a character cut at the end (the preview stops mid-file) waits for more instead of failing.
    new TextDecoder('utf-8', { fatal: true }).decode(bytes, { stream: true });
    return true;
  } catch {
    return false;
  }
}

export async function filePage({ view, repo, params }: PageContext): Promise<string> {
  const archive = params.get('archive') ?? '';
  const path = (params.get('path') ?? '').replace(/^\/+|\/+$/g, '');
  const tree = await view.tree(archive);
  const e = await tree.stat(path);
  if (!e) throw new NotFound(`"${path}" is not in archive ${archive}`);
  const parent = path.includes('/') ? path.slice(0, path.lastIndexOf('/')) : '';
  let preview = '';
  if (e.type === 'file' && IMAGE.test(e.name)) preview = `<img class="preview" alt="${esc(e.name)}" src="${esc(href('/raw', { archive, path }))}">`;
  else if (e.type === 'file') {
    const head = await view.retrying(async () => (await view.tree(archive)).read(path, 0, PREVIEW_BYTES));
    if (e.size === 0) preview = '<p class="muted">Empty file.</p>';
    else if (looksLikeText(head)) {
      preview = `<pre class="preview">${esc(new TextDecoder().decode(head))}</pre>${e.size > PREVIEW_BYTES ? `<p class="muted">First ${formatSize(PREVIEW_BYTES)} of ${formatSize(e.size)}.</p>` : ''}`;
    } else preview = '<p class="muted">No preview: binary contents.</p>';
  }
  const facts: [string, string][] = [
    ['Type', e.type === 'other' ? modeText(e.mode).slice(0, 1) : e.type], ['Size', e.type === 'file' ? `${formatSize(e.size)} (${e.size.toLocaleString('en')} bytes)` : ''],
    ['Mode', modeText(e.mode)], ['Owner', owner(e)], ['Modified (UTC)', timeText(e.mtimeNs)],
  ];
  if (e.linkTarget !== undefined) facts.push(['Link target', e.linkTarget]);
  if ((e.nlink ?? 1) > 1) facts.push(['Hard links', String(e.nlink)]);
  const body = `<h1>${esc(e.name)}</h1>
<div class="crumbs"><a href="${esc(href('/browse', { archive }))}">${esc(archive)}</a> / <a href="${esc(href('/browse', { archive, path: parent }))}">${esc(parent || '.')}</a></div>
<div class="card"><dl class="facts">${facts.filter(([, v]) => v !== '').map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`).join('')}</dl></div>
<div class="toolbar">${e.type === 'file' ? `<a class="button primary" id="download" href="${esc(href('/raw', { archive, path, download: 1 }))}">Download</a>
<a class="button" href="${esc(href('/raw', { archive, path }))}">Open</a>` : ''}
<a class="button" href="${esc(href('/search', { path }))}">Every version of this path</a></div>
${preview ? `<div class="card">${preview}</div>` : ''}`;
  return page(e.name, '', repo, body);
}

/** A short name for a file's contents (its chunk ids), equal for equal contents. */
function contentKey(item: Item): string {
  const h = new Uint32Array(2);
  for (const c of item.chunks ?? []) for (let i = 0; i < 8; i++) h[i & 1] = (Math.imul(h[i & 1] ^ c.id[i], 16777619) + c.id[i + 8]) >>> 0;
  return `${item.size ?? 0}:${h[0].toString(16)}${h[1].toString(16)}`;
}

interface Version { archive: string; start: bigint; item: Item; key: string }

export async function searchPage({ view, repo, params }: PageContext): Promise<string> {
  const q = (params.get('q') ?? '').trim();
  const exact = (params.get('path') ?? '').replace(/^\/+|\/+$/g, '');
  let results = '';
  if (q !== '' || exact !== '') {
    const needle = q.toLowerCase();
    const byPath = new Map<string, Version[]>();
    let truncated = false;
    for (const record of (await view.archives()).filter((r) => !r.checkpoint)) {
      for await (const item of listItems(view.opened, record.name)) {
        const path = pathText(item.path);
        const hit = exact !== '' ? path === exact : path.slice(path.lastIndexOf('/') + 1).toLowerCase().includes(needle);
        if (!hit) continue;
        let versions = byPath.get(path);
        if (!versions) {
          if (byPath.size >= SEARCH_PATHS) { truncated = true; continue; }
          byPath.set(path, versions = []);
        }
        versions.push({ archive: record.name, start: record.start, item, key: contentKey(item) });
      }
    }
    const groups = [...byPath].map(([path, versions]) => versionTable(path, versions)).join('\n');
    results = `<p class="muted">${byPath.size} path${byPath.size === 1 ? '' : 's'} found${truncated ? ` (the first ${SEARCH_PATHS}; narrow the search)` : ''}.</p>${groups}`;
  }
  const body = `<h1>Search</h1>
<form class="toolbar card" action="/search" method="get"><input type="search" name="q" value="${esc(q)}" placeholder="File name, e.g. notes.txt" autofocus>
<button class="primary" type="submit">Search every archive</button><span class="muted">by name (part of the last path component, any case)</span></form>
${exact ? `<h2>Every version of <code>${esc(exact)}</code></h2>` : ''}${results}`;
  return page('Search', '/search', repo, body);
}

/** One path's versions, oldest first: equal contents share a letter; two can be compared side by side. */
function versionTable(path: string, versions: Version[]): string {
  const letters = new Map<string, string>();
  for (const v of versions) if (!letters.has(v.key)) letters.set(v.key, versionName(letters.size));
  const file = versions.some((v) => v.item.chunks !== undefined);
  const rows = versions.map((v, i) => {
    const changed = i > 0 && versions[i - 1].key !== v.key;
    return `<tr><td><a href="${esc(href('/file', { archive: v.archive, path }))}">${esc(v.archive)}</a></td><td>${esc(timeText(v.start))}</td>
<td><span class="tag${changed ? ' warn' : ''}">${esc(letters.get(v.key)!)}</span>${changed ? ' changed' : i === 0 ? '' : ' <span class="muted">same</span>'}</td>
<td class="num">${esc(formatSize(v.item.size ?? 0))}</td><td>${esc(timeText(v.item.mtime))}</td><td>${esc(modeText(v.item.mode))}</td>
${file ? `<td><a href="${esc(href('/raw', { archive: v.archive, path, download: 1 }))}">download</a></td>` : '<td></td>'}</tr>`;
  }).join('');
  const distinct = [...new Map(versions.map((v) => [v.key, v])).values()];
  const compare = file && distinct.length >= 2
    ? `<a class="button" href="${esc(href('/versions', { path, a: distinct[distinct.length - 2].archive, b: distinct[distinct.length - 1].archive }))}">Compare the last two versions side by side</a>` : '';
  return `<div class="card"><div class="toolbar"><strong>${esc(path)}</strong><span class="muted">${versions.length} archive${versions.length === 1 ? '' : 's'}, ${letters.size} version${letters.size === 1 ? '' : 's'}</span>${compare}</div>
<table><thead><tr><th>Archive</th><th>Archive time (UTC)</th><th>Version</th><th class="num">Size</th><th>Modified (UTC)</th><th>Mode</th><th></th></tr></thead><tbody>${rows}</tbody></table></div>`;
}

const versionName = (n: number): string => (n < 26 ? String.fromCharCode(65 + n) : `V${n + 1}`);

/** Two versions of one path side by side: text line by line (lines that differ marked), images, or facts. */
export async function versionsPage({ view, repo, params }: PageContext): Promise<string> {
  const path = (params.get('path') ?? '').replace(/^\/+|\/+$/g, '');
  const names = [params.get('a') ?? '', params.get('b') ?? ''];
  const sides = await Promise.all(names.map(async (archive) => {
    const tree = await view.tree(archive);
    const e = await tree.stat(path);
    if (!e) throw new NotFound(`"${path}" is not in archive ${archive}`);
    const head = e.type === 'file' && !IMAGE.test(e.name) ? await tree.read(path, 0, PREVIEW_BYTES) : new Uint8Array(0);
    return { archive, e, head };
  }));
  const texts = sides.map((s) => (looksLikeText(s.head) ? new TextDecoder().decode(s.head).replace(/\n$/, '').split('\n') : undefined));
  const column = (i: number): string => {
    const { archive, e } = sides[i];
    const title = `<h2><a href="${esc(href('/file', { archive, path }))}">${esc(archive)}</a> <span class="muted">${esc(formatSize(e.size))} · modified ${esc(timeText(e.mtimeNs))}</span></h2>`;
    if (IMAGE.test(e.name)) return `${title}<img class="preview" alt="" src="${esc(href('/raw', { archive, path }))}">`;
    const lines = texts[i];
    if (!lines) return `${title}<p class="muted">No preview: binary contents.</p>`;
    const other = texts[1 - i] ?? [];
    return `${title}<pre class="preview">${lines.map((l, n) => (other[n] === l ? `${esc(l)}\n` : `<span class="changed">${esc(l)}\n</span>`)).join('')}</pre>`;
  };
  const body = `<h1>${esc(path)}</h1><p class="muted">Two versions side by side; lines that differ from the other side at the same line number are marked.</p>
<div class="side"><div class="card">${column(0)}</div><div class="card">${column(1)}</div></div>`;
  return page(`Versions of ${path}`, '/search', repo, body);
}

function changeText(c: DiffChange): string {
  switch (c.kind) {
    case 'added': return `<span class="add">added ${esc(formatBytes(c.size))}</span>`;
    case 'removed': return `<span class="del">removed ${esc(formatBytes(c.size))}</span>`;
    case 'content': return `<span class="add">+${esc(formatBytes(c.added))}</span> <span class="del">-${esc(formatBytes(c.removed))}</span>`;
    case 'mode': return `mode ${esc(modeText(c.from))} → ${esc(modeText(c.to))}`;
    case 'mtime': return 'mtime';
    default: return `${esc(c.kind)} ${esc(String(c.from))} → ${esc(String(c.to))}`;
  }
}

export async function diffPage({ view, repo, params }: PageContext): Promise<string> {
  const records = await view.archives();
  const a = params.get('a') ?? records[records.length - 2]?.name ?? '';
  const b = params.get('b') ?? records[records.length - 1]?.name ?? '';
  const withTimes = params.get('times') === '1';
  const select = (name: string, chosen: string): string => `<select name="${name}">${[...records].reverse().map((r) => `<option${r.name === chosen ? ' selected' : ''}>${esc(r.name)}</option>`).join('')}</select>`;
  let result = '';
  if (params.has('a') && params.has('b')) {
    const entries = await view.retrying(() => diffArchives(view.opened, a, b, { withTimes }));
    const count = (kind: string) => entries.filter((e) => e.changes.some((c) => c.kind === kind)).length;
    const rows = entries.slice(0, DIFF_ROWS).map((e) => {
      const kind = e.changes[0].kind;
      const link = kind === 'removed' ? href('/file', { archive: a, path: e.path }) : href('/file', { archive: b, path: e.path });
      return `<tr data-filter="${esc(e.path)}"><td>${e.changes.map(changeText).join(' · ')}</td><td class="path"><a href="${esc(link)}">${esc(e.path)}</a></td></tr>`;
    }).join('\n');
    result = `<div class="card" id="diff"><div class="toolbar"><strong>${entries.length.toLocaleString('en')} ${entries.length === 1 ? 'path differs' : 'paths differ'}</strong>
<span class="tag">${count('added')} added</span><span class="tag">${count('removed')} removed</span><span class="tag">${count('content')} changed contents</span>
<input type="search" placeholder="Filter paths…" data-filter-rows="#diff tbody tr" data-count="diff-shown"><span class="muted"><span id="diff-shown">${Math.min(entries.length, DIFF_ROWS)}</span> shown</span></div>
${entries.length > DIFF_ROWS ? `<p class="muted">The first ${DIFF_ROWS} paths; "cairn diff ${esc(a)} ${esc(b)}" prints all.</p>` : ''}
<table><thead><tr><th>Change</th><th>Path</th></tr></thead><tbody>${rows}</tbody></table></div>`;
  }
  const body = `<h1>Diff</h1>
<form class="toolbar card" action="/diff" method="get">${select('a', a)}<span class="muted">→</span>${select('b', b)}
<label><input type="checkbox" name="times" value="1"${withTimes ? ' checked' : ''}> modification times too</label><button class="primary" type="submit">Compare</button>
<span class="muted">as <code>cairn diff</code>: contents compared by chunk ids</span></form>${result}`;
  return page('Diff', '/diff', repo, body);
}

export async function factsPage({ view, repo, env }: PageContext): Promise<string> {
  const { repository, key } = view.opened;
  const { config } = repository;
  const stats = await view.retrying(() => view.stats());
  const usage = view.store.counter.usage();
  const ratio = (r: number | null): string => (r === null ? '—' : `${r.toFixed(2)}×`);
  const check = await readCheckRecord(config.id, env);
  const lastCheck = !check ? 'none recorded on this machine (run "cairn check")'
    : `${check.time.toISOString().replace('T', ' ').slice(0, 19)} UTC: ${check.ok ? 'no problems' : `${check.errors} error${check.errors === 1 ? '' : 's'}, ${check.damagedFiles} damaged file${check.damagedFiles === 1 ? '' : 's'}`}`
      + ` (${check.data === 'all' ? 'all data read' : check.data === 'subset' ? 'a sample of the data read' : 'structure only'}${check.repair ? ', repaired' : ''})`;
  const rows: [string, string][] = [
    ['Location', redactUrl(repo)], ['Backend', view.store.name], ['Repository id', config.id], ['Format version', String(config.version)],
    ['Encryption', key.mode], ['Id key fingerprint', idKeyFingerprint(key)], ['Append-only', config.appendOnly ? 'yes' : 'no'],
    ['Retention', config.retention ? `${config.retention.mode}, ${config.retention.seconds} s` : 'none'],
    ['Archives', String(stats.archives)], ['Chunks in the index', repository.count.toLocaleString('en')],
    ['Repository size (segments)', `${formatSize(stats.size)} in ${stats.segments} segments`], ['Original size (all archives)', formatSize(stats.original)],
    ['Deduplicated', formatSize(stats.unique.size)], ['Compressed and encrypted', formatSize(stats.unique.stored)],
    ['Deduplication ratio', ratio(stats.dedupRatio)], ['Compression ratio', ratio(stats.compressionRatio)],
    ['Last check', lastCheck],
  ];
  const requests: [string, string][] = [
    ...Object.entries(usage.requests).map(([k, n]): [string, string] => [k.toUpperCase(), n.toLocaleString('en')]),
    ['Retries', String(usage.retries)], ['Bytes down', formatSize(usage.bytesDown)], ['Bytes up', formatSize(usage.bytesUp)],
  ];
  const dl = (pairs: [string, string][]) => `<dl class="facts">${pairs.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`).join('')}</dl>`;
  const body = `<h1>Repository</h1><div class="card">${dl(rows)}</div>
<h2>Requests since the server started (${esc(timeText(BigInt(view.started.getTime()) * 1_000_000n))} UTC)</h2>
<div class="card" id="requests">${dl(requests)}<p class="muted">The server opened the store read-only and took no lock: it never writes to the repository.</p></div>`;
  return page('Repository', '/facts', repo, body);
}

/** A page or file that does not exist: 404. */
export class NotFound extends Error {}
