// `cairn serve` end to end: the built executable serves a real repository, Debian's Chromium (driven headless by
// playwright-core) lists the archives, browses into folders, opens a folder of 20 000 files without freezing,
// downloads a file (bytes compared with the source), searches every version of a file and opens a diff; raw HTTP
// checks the token (401/403), byte ranges (206, Content-Range, 416), the folder tar, and that the server never
// writes: no put or delete in its request accounting, not one file of the repository changed, no lock taken.
// Screenshots go to test/artifacts/serve/ (gitignored). A missing /usr/bin/chromium fails the test, never skips it.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, stat, writeFile, rm } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { cairn, ok, root, startCairn, workspace } from './helpers.js';
import { startServe } from '../../src/cli/commands/serve.js';
import { createMemoryIO } from '../../src/cli/io.js';
import { ReadOnlyError } from '../../src/store/errors.js';
import { tarEnd, tarHeader } from '../../src/archive/tar-format.js';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = join(root, 'test', 'artifacts', 'serve');
const MANY = 20_000;
/** A 1×1 PNG (a blue pixel). */
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');

let ws: Awaited<ReturnType<typeof workspace>>;
let server: ChildProcess;
let url: string;
let base: string;
let token: string;
let big: Buffer;
let before1: Map<string, string>;
let browser: BrowserContext;

/** Every file of the repository folder with its size and modification time: any write shows. */
async function repoFiles(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const visit = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) { out.set(`${relative(dir, p)}/`, ''); await visit(p); } else {
        const s = await stat(p);
        out.set(relative(dir, p), `${s.size} ${s.mtimeMs}`);
      }
    }
  };
  await visit(dir);
  return out;
}

const auth = (): Record<string, string> => ({ Authorization: `Bearer ${token}` });

before(async () => {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install chromium (the serve tests need Debian's Chromium)`);
  ws = await workspace();
  const src = join(ws.dir, 'src');
  await mkdir(join(src, 'docs'), { recursive: true });
  big = randomBytes(3 * 1024 * 1024 + 17);
  await writeFile(join(src, 'big.bin'), big);
  await writeFile(join(src, 'docs', 'notes.txt'), 'first line\nversion one\n');
  await writeFile(join(src, 'docs', 'gone.txt'), 'removed later\n');
  await writeFile(join(src, 'pixel.png'), PNG);
  // The big folder comes from a tar (import-tar): 20 000 files without 20 000 files on disk.
  const members = [tarHeader({ path: Buffer.from('many'), type: 'dir', mode: 0o755, uid: 0, gid: 0, size: 0, mtime: 1_700_000_000_000_000_000n })];
  for (let i = 0; i < MANY; i++) members.push(tarHeader({ path: Buffer.from(`many/f${String(i).padStart(5, '0')}`), type: 'file', mode: 0o644, uid: 0, gid: 0, size: 0, mtime: 1_700_000_000_000_000_000n }));
  await writeFile(join(ws.dir, 'many.tar'), Buffer.concat([...members, tarEnd()]));
  await ok(['rcreate', '-r', ws.repo, '--encryption', 'repokey-chacha20-poly1305'], { cwd: ws.dir });
  await ok(['create', '-r', ws.repo, 'one', 'src'], { cwd: ws.dir });
  await writeFile(join(src, 'docs', 'notes.txt'), 'first line\nversion two\nand more\n');
  await rm(join(src, 'docs', 'gone.txt'));
  await writeFile(join(src, 'docs', 'new.txt'), 'added\n');
  await ok(['create', '-r', ws.repo, 'two', 'src'], { cwd: ws.dir });
  await ok(['import-tar', '-r', ws.repo, 'many', 'many.tar'], { cwd: ws.dir });
  before1 = await repoFiles(ws.repo);
  server = startCairn(['serve', '-r', ws.repo, '--listen', '127.0.0.1:0'], { cwd: ws.dir });
  url = await new Promise<string>((resolve, reject) => {
    let out = '';
    let err = '';
    server.stdout!.on('data', (d: Buffer) => { out += d.toString(); const m = /^(http:\/\/\S+)\n/.exec(out); if (m) resolve(m[1]); });
    server.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
    server.on('exit', (code) => reject(new Error(`cairn serve exited ${code}: ${err}`)));
    setTimeout(() => reject(new Error(`no URL after 30 s: ${err}`)), 30_000);
  });
  base = url.slice(0, url.indexOf('/?'));
  token = new URL(url).searchParams.get('token')!;
  await mkdir(ARTIFACTS, { recursive: true });
  browser = await chromium.launchPersistentContext(await mkdtemp(join(ws.dir, 'chromium-')), {
    executablePath: CHROMIUM, headless: true, viewport: { width: 1100, height: 720 }, acceptDownloads: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});

after(async () => {
  await browser?.close();
  if (server && server.exitCode === null) {
    const exited = new Promise<number | null>((resolve) => server.on('exit', (code) => resolve(code)));
    server.kill('SIGINT');
    assert.equal(await exited, 0, 'Ctrl-C stops the server cleanly');
  }
  await ws?.cleanup();
});

test('the server prints a loopback URL with a token and refuses requests without it (401) or with a wrong one (403)', async () => {
  assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]{32}$/);
  for (const path of ['/', '/api/list?archive=one&path=', '/raw?archive=one&path=src/big.bin', '/tar?archive=one&path=src', '/assets/app.js', '/facts']) {
    assert.equal((await fetch(base + path)).status, 401, path);
    assert.equal((await fetch(base + path, { headers: { Authorization: 'Bearer nope' } })).status, 403, path);
    assert.equal((await fetch(base + path, { headers: { Cookie: `cairn-token-${new URL(base).port}=nope` } })).status, 403, path);
  }
  assert.equal((await fetch(`${base}/?token=nope`)).status, 403);
  // The printed URL sets the cookie and sends the browser on without the token in the address.
  const first = await fetch(url, { redirect: 'manual' });
  assert.equal(first.status, 303);
  assert.equal(first.headers.get('location'), '/');
  const cookie = first.headers.get('set-cookie')!;
  assert.match(cookie, /HttpOnly/);
  assert.match(cookie, /SameSite=Strict/);
  assert.equal((await fetch(`${base}/`, { headers: { Cookie: cookie.split(';')[0] } })).status, 200);
  // Read-only: no method that could change anything.
  assert.equal((await fetch(`${base}/`, { method: 'POST', headers: auth() })).status, 405);
});

test('a bad --listen (found before anything is opened) and a port in use are one-line usage errors, exit 2', async () => {
  const bad = await cairn(['serve', '-r', ws.repo, '--listen', 'nowhere'], { cwd: ws.dir });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /^cairn: --listen takes HOST:PORT/);
  assert.equal(bad.stderr.trim().split('\n').length, 1);
  const taken = await cairn(['serve', '-r', ws.repo, '--listen', `127.0.0.1:${new URL(base).port}`], { cwd: ws.dir });
  assert.equal(taken.code, 2);
  assert.match(taken.stderr, /is in use: choose another port with --listen/);
});

test('a file downloads with HTTP ranges: 206 with Content-Range, suffix and open ranges, 416 past the end', async () => {
  const raw = `${base}/raw?archive=one&path=src%2Fbig.bin`;
  const whole = await fetch(raw, { headers: auth() });
  assert.equal(whole.status, 200);
  assert.equal(whole.headers.get('accept-ranges'), 'bytes');
  assert.deepEqual(Buffer.from(await whole.arrayBuffer()), big);
  const cases: [string, number, number][] = [['bytes=1000-5999', 1000, 5999], ['bytes=-100', big.length - 100, big.length - 1], [`bytes=${big.length - 10}-`, big.length - 10, big.length - 1], ['bytes=2097000-2200000', 2097000, 2200000]];
  for (const [range, start, end] of cases) {
    const r = await fetch(raw, { headers: { ...auth(), Range: range } });
    assert.equal(r.status, 206, range);
    assert.equal(r.headers.get('content-range'), `bytes ${start}-${end}/${big.length}`);
    assert.equal(r.headers.get('content-length'), String(end - start + 1));
    assert.deepEqual(Buffer.from(await r.arrayBuffer()), big.subarray(start, end + 1), range);
  }
  const past = await fetch(raw, { headers: { ...auth(), Range: `bytes=${big.length}-` } });
  assert.equal(past.status, 416);
  assert.equal(past.headers.get('content-range'), `bytes */${big.length}`);
  // If-Range with another validator: the whole file, not a piece of a different one.
  const stale = await fetch(raw, { headers: { ...auth(), Range: 'bytes=0-9', 'If-Range': '"other"' } });
  assert.equal(stale.status, 200);
  await stale.arrayBuffer();
});

test('a folder downloads as a tar stream that tar unpacks to the archived files', async () => {
  const r = await fetch(`${base}/tar?archive=one&path=src%2Fdocs`, { headers: auth() });
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('content-type'), 'application/x-tar');
  const out = join(ws.dir, 'untar');
  await mkdir(out);
  await writeFile(join(ws.dir, 'docs.tar'), Buffer.from(await r.arrayBuffer()));
  const t = spawnSync('tar', ['-xf', join(ws.dir, 'docs.tar'), '-C', out]);
  assert.equal(t.status, 0, t.stderr?.toString());
  assert.equal(await readFile(join(out, 'src', 'docs', 'notes.txt'), 'utf8'), 'first line\nversion one\n');
  assert.equal(await readFile(join(out, 'src', 'docs', 'gone.txt'), 'utf8'), 'removed later\n');
});

test('in the browser: list and filter archives, browse into a folder, preview and download a file, search versions, open a diff', async () => {
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(url);
  assert.equal(new URL(page.url()).search, '', 'the token is not left in the address bar');
  await page.waitForSelector('#archives tbody tr');
  assert.deepEqual(await page.locator('#archives tbody tr td:first-child a').allTextContents(), ['many', 'two', 'one']);
  assert.equal(await page.locator('.chart svg rect.bar').count(), 3);
  await page.screenshot({ path: join(ARTIFACTS, 'archives.png') });
  await page.fill('#filter', 'tw');
  assert.deepEqual(await page.locator('#archives tbody tr:visible td:first-child a').allTextContents(), ['two']);
  await page.fill('#filter', '');

  await page.click('#archives a:text-is("one")');
  await page.click('.row a:text-is("src")');
  await page.click('.row a:text-is("docs")');
  await page.waitForSelector('.row a:text-is("notes.txt")');
  assert.equal(new URL(page.url()).searchParams.get('path'), 'src/docs');
  assert.deepEqual(await page.locator('.row a').allTextContents(), ['gone.txt', 'notes.txt']);
  await page.screenshot({ path: join(ARTIFACTS, 'folder.png') });
  await page.goBack();
  await page.waitForSelector('.row a:text-is("big.bin")');

  await page.click('.row a:text-is("big.bin")');
  await page.waitForSelector('#download');
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download')]);
  assert.equal(download.suggestedFilename(), 'big.bin');
  const saved = join(ws.dir, 'downloaded.bin');
  await download.saveAs(saved);
  assert.deepEqual(await readFile(saved), big);

  await page.goto(`${base}/file?archive=two&path=src%2Fdocs%2Fnotes.txt`);
  assert.equal((await page.locator('pre.preview').textContent())?.trim(), 'first line\nversion two\nand more');
  await page.goto(`${base}/file?archive=one&path=src%2Fpixel.png`);
  await page.waitForFunction("document.querySelector('img.preview')?.naturalWidth === 1");

  await page.goto(`${base}/search`);
  await page.fill('input[name=q]', 'NOTES');
  await page.click('button:text("Search every archive")');
  await page.waitForSelector('text=src/docs/notes.txt');
  assert.equal(await page.locator('.card table tbody tr').count(), 2, 'one row per archive');
  await page.click('text=Compare the last two versions side by side');
  await page.waitForSelector('.side');
  assert.deepEqual((await page.locator('.side .changed').allTextContents()).map((t) => t.trim()), ['version one', 'version two', 'and more']);
  await page.screenshot({ path: join(ARTIFACTS, 'versions.png') });

  await page.click('header a:text("Diff")');
  await page.selectOption('select[name=a]', 'one');
  await page.selectOption('select[name=b]', 'two');
  await page.click('button:text("Compare")');
  await page.waitForSelector('#diff tbody tr');
  const rows = await page.locator('#diff tbody tr').allTextContents();
  assert.equal(rows.length, 3);
  assert.match(rows.find((r) => r.includes('gone.txt'))!, /removed/);
  assert.match(rows.find((r) => r.includes('new.txt'))!, /added/);
  assert.match(rows.find((r) => r.includes('notes.txt'))!, /\+\d+ B -\d+ B/);
  await page.screenshot({ path: join(ARTIFACTS, 'diff.png') });

  await page.click('header a:text("Repository")');
  await page.waitForSelector('#requests');
  assert.match(await page.locator('main').textContent() ?? '', /repokey-chacha20-poly1305/);
  await page.screenshot({ path: join(ARTIFACTS, 'repository.png'), fullPage: true });
  assert.deepEqual(errors, []);
  await page.close();
});

test(`a folder of ${MANY} files opens at once: only the rows in view are in the page, and the page never stalls`, async () => {
  const page = await browser.newPage();
  // Every task longer than 50 ms on the page's main thread (Long Tasks API): the longest is how long the page froze.
  await page.addInitScript({ content: `window.longest = 0;
    new PerformanceObserver((list) => { for (const e of list.getEntries()) window.longest = Math.max(window.longest, e.duration); }).observe({ type: 'longtask', buffered: true });` });
  await page.goto(`${base}/`);
  const started = Date.now();
  await page.goto(`${base}/browse?archive=many&path=many`);
  await page.waitForSelector('.row a:text-is("f00000")');
  const opened = Date.now() - started;
  assert.equal(await page.locator('#count').textContent(), MANY.toLocaleString('en'));
  const rendered = await page.locator('.row').count();
  assert.ok(rendered < 120, `${rendered} rows in the page, not ${MANY}`);
  await page.locator('.vlist').evaluate((el) => { el.scrollTop = el.scrollHeight; });
  await page.waitForSelector(`.row a:text-is("f${MANY - 1}")`);
  await page.locator('.vlist').evaluate((el) => { el.scrollTop = el.scrollHeight / 2; });
  await page.waitForSelector('.row a:text-is("f10000")');
  await page.waitForTimeout(100);
  const longest = await page.evaluate<number>('window.longest');
  await page.screenshot({ path: join(ARTIFACTS, 'many.png') });
  // Rendering the visible rows takes milliseconds; the bound leaves room for a loaded CI machine.
  assert.ok(longest < 1500, `the page froze for ${Math.round(longest)} ms`);
  assert.ok(opened < 15_000, `the folder took ${opened} ms to show`);
  await page.close();
});

test('the server never writes: no put or delete in its accounting, no file of the repository changed, no lock', async () => {
  const r = await fetch(`${base}/api/usage`, { headers: auth() });
  const { readOnly, lock, usage } = await r.json() as { readOnly: boolean; lock: boolean; usage: { requests: Record<string, number>; bytesUp: number } };
  assert.equal(readOnly, true);
  assert.equal(lock, false);
  assert.ok(usage.requests.get > 0, 'it did read');
  assert.equal(usage.requests.put, 0);
  assert.equal(usage.requests.delete, 0);
  assert.equal(usage.bytesUp, 0);
  assert.deepEqual(await repoFiles(ws.repo), before1);
});

test('the store the server opens is wrapped read-only: a write is refused before any request', async () => {
  const io = createMemoryIO({ env: { ...process.env, CAIRN_PASSPHRASE: 'correct horse battery staple', XDG_CACHE_HOME: join(ws.dir, 'cache'), XDG_CONFIG_HOME: join(ws.dir, 'config') } });
  const running = await startServe({ repo: ws.repo, listen: '127.0.0.1:0' }, io);
  try {
    await assert.rejects(running.store.put('records/planted', new Uint8Array(1)), (e: unknown) => e instanceof ReadOnlyError && e.code === 'EREADONLY');
    await assert.rejects(running.store.delete('config'), (e: unknown) => e instanceof ReadOnlyError);
    assert.equal(running.store.counter.usage().requests.put, 0);
    assert.equal(running.store.counter.usage().requests.delete, 0);
    assert.equal(existsSync(join(ws.repo, 'locks')) ? (await readdir(join(ws.repo, 'locks'))).length : 0, 0, 'no lock object');
  } finally {
    await running.close();
  }
});

test('an archive made while the server runs is served without a restart (no lock is held, so create is not held up)', async () => {
  await writeFile(join(ws.dir, 'src', 'docs', 'later.txt'), 'made while serving\n');
  await ok(['create', '-r', ws.repo, 'three', 'src'], { cwd: ws.dir });
  // Straight to a file of the new archive: its chunks are not in the index the server loaded, so it reopens.
  const r = await fetch(`${base}/raw?archive=three&path=src%2Fdocs%2Flater.txt`, { headers: auth() });
  assert.equal(r.status, 200);
  assert.equal(await r.text(), 'made while serving\n');
  const home = await (await fetch(`${base}/`, { headers: auth() })).text();
  assert.match(home, />three<\/a>/);
});

test('the repository page shows the last check this machine ran: none before, its result after', async () => {
  const facts = async (): Promise<string> => {
    const r = await fetch(`${base}/facts`, { headers: auth() });
    assert.equal(r.status, 200);
    return r.text();
  };
  assert.match(await facts(), /none recorded on this machine/);
  await ok(['check', '-r', ws.repo, '--verify-data'], { cwd: ws.dir });
  const after = await facts();
  assert.match(after, /\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC: no problems \(all data read\)/);
  assert.doesNotMatch(after, /none recorded/);
});
