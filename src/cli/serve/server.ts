/**
 * The HTTP server of `cairn serve`: the access token, the routes, file downloads with byte ranges, folders as tar
 * streams, and the JSON the folder browser reads. Only GET and HEAD exist. Every request must carry the token: in
 * the query (`?token=`, the printed URL; answered with a cookie and a redirect to the same URL without it), in the
 * cookie, or as `Authorization: Bearer`; without it 401, with a wrong one 403. See docs/adr/0058-serve.md.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { timingSafeEqual, createHash } from 'node:crypto';
import { dumpArchive, type ArchiveTree, type TreeEntry } from '../../index.js';
import { SCRIPT, STYLE } from './assets.js';
import { esc } from './html.js';
import { archivesPage, browsePage, diffPage, factsPage, filePage, listRow, NotFound, searchPage, versionsPage, type PageContext } from './pages.js';
import { parseRange } from './range.js';
import { ServeView } from './view.js';

export interface ServeOptions {
  view: ServeView;
  token: string;
  /** How the repository is named in the pages (redacted). */
  repo: string;
  /** Where this machine's cache is (the last check recorded there); default: the process's environment. */
  env?: NodeJS.ProcessEnv;
}

const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";
/** Raw file contents are never run as a page of this origin: sandboxed, no script. */
const RAW_CSP = "default-src 'none'; img-src 'self'; media-src 'self'; style-src 'unsafe-inline'; sandbox";
const PAGE_SIZE_MAX = 5000;

const TYPES: Record<string, string> = {
  png: 'image/png', jpg: 'image/jpeg', jpeg: 'image/jpeg', gif: 'image/gif', webp: 'image/webp', bmp: 'image/bmp', ico: 'image/x-icon', avif: 'image/avif',
  txt: 'text/plain; charset=utf-8', md: 'text/plain; charset=utf-8', log: 'text/plain; charset=utf-8', json: 'application/json', pdf: 'application/pdf',
  mp4: 'video/mp4', webm: 'video/webm', mp3: 'audio/mpeg', ogg: 'audio/ogg', wav: 'audio/wav',
};

/** The content type a file is served with: only kinds a browser shows without running anything, else bytes. */
function contentType(name: string): string {
  const ext = name.slice(name.lastIndexOf('.') + 1).toLowerCase();
  return TYPES[ext] ?? 'application/octet-stream';
}

/** `attachment; filename="…"; filename*=UTF-8''…` for a name that may hold any character. */
function disposition(kind: 'attachment' | 'inline', name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return `${kind}; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}

function send(res: ServerResponse, status: number, type: string, body: string | Uint8Array, headers: Record<string, string> = {}): void {
  const bytes = typeof body === 'string' ? Buffer.from(body) : body;
  res.writeHead(status, { 'Content-Type': type, 'Content-Length': String(bytes.length), ...headers });
  res.end(res.req.method === 'HEAD' ? undefined : bytes);
}

function errorPage(res: ServerResponse, status: number, message: string): void {
  send(res, status, 'text/html; charset=utf-8', `<!doctype html><meta charset="utf-8"><title>${status}</title><link rel="stylesheet" href="/assets/app.css"><main><h1>${status}</h1><div class="card error">${esc(message)}</div><p><a href="/">Archives</a></p></main>`);
}

/** Writes `piece` and waits for the socket to drain; false when the client has gone. */
function write(res: ServerResponse, piece: Uint8Array): Promise<boolean> {
  if (res.destroyed) return Promise.resolve(false);
  if (res.write(piece)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = (ok: boolean) => { res.off('drain', onDrain); res.off('close', onClose); resolve(ok); };
    const onDrain = () => done(true);
    const onClose = () => done(false);
    res.on('drain', onDrain);
    res.on('close', onClose);
  });
}

/** The cookie that carries the token, one per port (cookies do not tell ports apart). */
const cookieName = (port: number): string => `cairn-token-${port}`;

function cookies(req: IncomingMessage): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0) out.set(part.slice(0, i).trim(), part.slice(i + 1).trim());
  }
  return out;
}

const same = (a: string, b: string): boolean => {
  const x = createHash('sha256').update(a).digest();
  const y = createHash('sha256').update(b).digest();
  return timingSafeEqual(x, y);
};

/** Creates the server (not listening yet). */
export function createServeServer(options: ServeOptions): Server {
  const { view, token } = options;
  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (res.headersSent) { res.destroy(); return; }
      if (error instanceof NotFound) return errorPage(res, 404, error.message);
      const code = (error as { code?: unknown } | null)?.code;
      if (code === 'EARCHIVE_NOT_FOUND' || code === 'EPATH_NOT_FOUND') return errorPage(res, 404, (error as Error).message);
      errorPage(res, 500, (error as Error)?.message?.split('\n')[0] ?? String(error));
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const port = (server.address() as { port: number } | null)?.port ?? 0;
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('X-Frame-Options', 'DENY');
    const url = new URL(req.url ?? '/', 'http://cairn.invalid');
    // The token: from the printed URL (then a cookie, and the URL without it), the cookie, or a bearer header.
    const given = url.searchParams.get('token') ?? cookies(req).get(cookieName(port)) ?? /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (given === undefined) return errorPage(res, 401, 'This server needs its access token: open the URL that "cairn serve" printed.');
    if (!same(given, token)) return errorPage(res, 403, 'Wrong access token: open the URL that "cairn serve" printed (a new token is made each time it starts).');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      return errorPage(res, 405, 'cairn serve is read-only: only GET and HEAD are answered.');
    }
    if (url.searchParams.has('token')) {
      url.searchParams.delete('token');
      res.setHeader('Set-Cookie', `${cookieName(port)}=${token}; Path=/; HttpOnly; SameSite=Strict`);
      res.writeHead(303, { Location: `${url.pathname}${url.search}` });
      res.end();
      return;
    }
    const params = url.searchParams;
    const ctx: PageContext = { view, repo: options.repo, params, env: options.env ?? process.env };
    const html = (body: string) => send(res, 200, 'text/html; charset=utf-8', body, { 'Content-Security-Policy': CSP });
    switch (url.pathname) {
      case '/assets/app.css': return send(res, 200, 'text/css; charset=utf-8', STYLE);
      case '/assets/app.js': return send(res, 200, 'text/javascript; charset=utf-8', SCRIPT);
      case '/': return html(await view.retrying(() => archivesPage(ctx)));
      case '/browse': return html(await view.retrying(() => browsePage(ctx)));
      case '/file': return html(await view.retrying(() => filePage(ctx)));
      case '/search': return html(await view.retrying(() => searchPage(ctx)));
      case '/versions': return html(await view.retrying(() => versionsPage(ctx)));
      case '/diff': return html(await diffPage(ctx));
      case '/facts': return html(await factsPage(ctx));
      case '/api/list': return list(params, res);
      case '/api/usage': return send(res, 200, 'application/json', JSON.stringify({ readOnly: true, lock: false, backend: view.store.name, usage: view.store.counter.usage() }));
      case '/raw': return raw(req, params, res);
      case '/tar': return tar(params, res);
      case '/favicon.ico': return send(res, 204, 'image/x-icon', '');
      default: return errorPage(res, 404, `No page ${url.pathname}.`);
    }
  }

  /** The tree of `archive` and its entry at `path` (404 when missing), the repository reopened once if it changed. */
  async function entryOf(archive: string, path: string): Promise<{ tree: ArchiveTree; e: TreeEntry }> {
    return view.retrying(async () => {
      const tree = await view.tree(archive);
      const e = await tree.stat(path);
      if (!e) throw new NotFound(`"${path}" is not in archive ${archive}`);
      return { tree, e };
    });
  }

  /** A page of a folder's entries: `{ path, total, offset, entries }`. */
  async function list(params: URLSearchParams, res: ServerResponse): Promise<void> {
    const archive = params.get('archive') ?? '';
    const path = (params.get('path') ?? '').replace(/^\/+|\/+$/g, '');
    const offset = Math.max(0, Number(params.get('offset') ?? 0) || 0);
    const limit = Math.min(PAGE_SIZE_MAX, Math.max(1, Number(params.get('limit') ?? 1000) || 1000));
    const entries = await view.retrying(async () => (await view.tree(archive)).list(path));
    const body = { path, total: entries.length, offset, entries: entries.slice(offset, offset + limit).map((e) => listRow(archive, e)) };
    send(res, 200, 'application/json', JSON.stringify(body));
  }

  /** One file's bytes, streamed; one byte range (206) when asked. `download=1`: as an attachment. */
  async function raw(req: IncomingMessage, params: URLSearchParams, res: ServerResponse): Promise<void> {
    const archive = params.get('archive') ?? '';
    const path = (params.get('path') ?? '').replace(/^\/+|\/+$/g, '');
    const { tree, e } = await entryOf(archive, path);
    if (e.type !== 'file') throw new NotFound(`"${path}" is not a regular file`);
    const etag = `"${createHash('sha256').update(`${tree.record.name}\0${path}\0${e.size}\0${e.mtimeNs}`).digest('hex').slice(0, 32)}"`;
    const ifRange = req.headers['if-range'];
    const answer = parseRange(ifRange === undefined || ifRange === etag ? req.headers.range : undefined, e.size);
    const headers: Record<string, string> = {
      'Content-Type': contentType(e.name), 'Accept-Ranges': 'bytes', ETag: etag, 'Content-Security-Policy': RAW_CSP,
      'Content-Disposition': disposition(params.get('download') === '1' ? 'attachment' : 'inline', e.name),
      'Last-Modified': new Date(Number(e.mtimeNs / 1_000_000n)).toUTCString(),
    };
    if (answer.kind === 'unsatisfiable') {
      res.writeHead(416, { 'Content-Range': `bytes */${e.size}`, 'Content-Length': '0' });
      res.end();
      return;
    }
    const [start, end] = answer.kind === 'partial' ? [answer.start, answer.end] : [0, e.size - 1];
    const length = Math.max(0, end - start + 1);
    if (answer.kind === 'partial') headers['Content-Range'] = `bytes ${start}-${end}/${e.size}`;
    res.writeHead(answer.kind === 'partial' ? 206 : 200, { ...headers, 'Content-Length': String(length) });
    if (req.method === 'HEAD' || length === 0) { res.end(); return; }
    for await (const piece of tree.stream(path, start, length)) {
      if (!await write(res, piece)) return;
    }
    res.end();
  }

  /** A folder (or the whole archive) as a pax tar stream, as `cairn export-tar` writes it. */
  async function tar(params: URLSearchParams, res: ServerResponse): Promise<void> {
    const archive = params.get('archive') ?? '';
    const path = (params.get('path') ?? '').replace(/^\/+|\/+$/g, '');
    await entryOf(archive, path);
    const name = `${path === '' ? archive : path.slice(path.lastIndexOf('/') + 1)}.tar`;
    let started = false;
    const start = (): void => {
      if (started) return;
      started = true;
      res.writeHead(200, { 'Content-Type': 'application/x-tar', 'Content-Disposition': disposition('attachment', name) });
    };
    const result = await dumpArchive(view.opened, archive, async (bytes) => { start(); return write(res, bytes); }, { paths: [path === '' ? '/' : `pp:${path}`], tar: true });
    start();
    if (!result.stopped) res.end();
  }

  return server;
}
