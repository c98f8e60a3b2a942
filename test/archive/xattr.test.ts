// Extended attributes: a real create → extract round trip on the temp file system (file, folder,
// symlink where the kernel allows, a 4000-byte binary value), canonical encoding, and degradation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as xattr from '@napi-rs/xattr';
import { createArchive } from '../../src/archive/create.js';
import { extractArchive } from '../../src/archive/extract.js';
import { decodeItems, encodeItem, sameXattrs, S_IFREG, type Item } from '../../src/archive/item.js';
import { readItems } from '../../src/archive/item-stream.js';
import { createXattrAccess, type XattrAddon } from '../../src/archive/xattrs.js';
import type { Warning } from '../../src/archive/walk.js';
import { makeFixture } from './helpers/context.js';

/** All xattrs of a path as a Map (order-free under deepEqual), symlinks not followed. */
function xattrsOf(path: string): Map<string, Buffer> {
  return new Map(xattr.listAttributesSync(path).map((name) => [name, xattr.getAttributeSync(path, name)!]));
}

/** Sets the first namespace the kernel accepts on a symlink (Linux: user.* never, trusted.* as root); undefined if none. */
function trySymlinkXattr(path: string): string | undefined {
  for (const name of ['user.cairn.link', 'trusted.cairn.link']) {
    try {
      xattr.setAttributeSync(path, name, Buffer.from('on the link'));
      return name;
    } catch {
      // refused for this namespace: try the next
    }
  }
  return undefined;
}

test('xattrs of a file, a folder, a symlink and a 4000-byte binary value round-trip byte for byte', async () => {
  const f = await makeFixture();
  try {
    const src = join(f.dir, 'src');
    await mkdir(join(src, 'dir'), { recursive: true });
    await writeFile(join(src, 'file'), 'contents');
    await writeFile(join(src, 'blob'), 'other');
    await writeFile(join(src, 'plain'), 'no xattrs');
    await symlink('file', join(src, 'link'));
    // The temp file system must take user xattrs, or this test proves nothing: fail loudly if not.
    xattr.setAttributeSync(join(src, 'file'), 'user.text', Buffer.from('héllo'));
    xattr.setAttributeSync(join(src, 'file'), 'user.empty', Buffer.alloc(0));
    xattr.setAttributeSync(join(src, 'file'), 'user.zeros', Buffer.from([0, 0, 255, 0]));
    xattr.setAttributeSync(join(src, 'dir'), 'user.folder', Buffer.from('d'));
    // ext4 keeps all of an inode's xattrs in one 4 KiB block: 4000 bytes is near the limit.
    const big = randomBytes(4000);
    xattr.setAttributeSync(join(src, 'blob'), 'user.big', big);
    const linkName = trySymlinkXattr(join(src, 'link'));

    const paths = ['file', 'blob', 'plain', 'dir', 'link'];
    const before = new Map(paths.map((p) => [p, xattrsOf(join(src, p))]));
    assert.equal(before.get('file')!.size, 3);
    assert.deepEqual(before.get('blob')!.get('user.big'), big);

    const created = await createArchive(f.ctx, { name: 'x', paths: [src], cacheDir: f.cacheDir });
    assert.deepEqual(created.warnings, []);
    const items = new Map<string, Item>();
    for await (const item of readItems(f.ctx, created.archive.items)) items.set(Buffer.from(item.path).toString().split('/').pop()!, item);
    assert.ok(sameXattrs(items.get('file')!.xattrs, before.get('file')), 'the item holds the file xattrs');
    assert.equal(items.get('plain')!.xattrs, undefined, 'no xattrs, no field');
    // Not following the link: the link item never carries its target's xattrs.
    assert.ok(sameXattrs(items.get('link')!.xattrs, before.get('link')));
    assert.equal(linkName === undefined, items.get('link')!.xattrs === undefined);

    const out = join(f.dir, 'out');
    const extracted = await extractArchive(f.ctx, 'x', { target: out, stripComponents: src.split('/').filter(Boolean).length });
    assert.deepEqual(extracted.warnings, []);
    for (const p of paths) assert.deepEqual(xattrsOf(join(out, p)), before.get(p), `xattrs of ${p}`);
    if (linkName) assert.deepEqual(xattrsOf(join(out, 'link')).get(linkName), Buffer.from('on the link'));

    const off = join(f.dir, 'off');
    await extractArchive(f.ctx, 'x', { target: off, stripComponents: src.split('/').filter(Boolean).length, xattrs: false });
    assert.equal(xattrsOf(join(off, 'file')).size, 0, 'xattrs: false restores none');
  } finally {
    await f.cleanup();
  }
});

test('equal xattr sets encode to equal bytes whatever the listing order', () => {
  const base = { path: Buffer.from('f'), mode: S_IFREG | 0o644, uid: 0, gid: 0, mtime: 1n };
  const a = encodeItem({ ...base, xattrs: new Map([['user.b', new Uint8Array([2])], ['user.a', new Uint8Array([1])], ['user.é', new Uint8Array()]]) });
  const b = encodeItem({ ...base, xattrs: new Map([['user.é', new Uint8Array()], ['user.a', new Uint8Array([1])], ['user.b', new Uint8Array([2])]]) });
  assert.deepEqual(a, b);
  const [decoded] = decodeItems(a);
  assert.deepEqual([...decoded.xattrs!.keys()], ['user.a', 'user.b', 'user.é']);
  assert.ok(sameXattrs(decoded.xattrs, new Map([['user.b', new Uint8Array([2])], ['user.é', new Uint8Array()], ['user.a', new Uint8Array([1])]])));
  assert.ok(!sameXattrs(decoded.xattrs, new Map([['user.a', new Uint8Array([1])]])));
  assert.ok(!sameXattrs(decoded.xattrs, new Map([['user.a', new Uint8Array([1])], ['user.b', new Uint8Array([3])], ['user.é', new Uint8Array()]])));
});

/** A fake addon counting calls; `fail` makes the named call throw the addon's error for an errno. */
function fakeAddon(fail: { list?: number; set?: number } = {}) {
  const calls = { list: 0, get: 0, set: 0 };
  const osError = (n: number) => Object.assign(new Error(`refused (os error ${n})`), { code: 'GenericFailure' });
  const addon: XattrAddon = {
    listAttributesSync() { calls.list += 1; if (fail.list) throw osError(fail.list); return ['user.a']; },
    getAttributeSync() { calls.get += 1; return Buffer.from('v'); },
    setAttributeSync() { calls.set += 1; if (fail.set) throw osError(fail.set); },
  };
  return { addon, calls };
}

test('an addon that does not load gives a single warning, and no xattrs', async () => {
  const warnings: Warning[] = [];
  const access = createXattrAccess({ onWarning: (w) => warnings.push(w), load: () => Promise.reject(Object.assign(new Error('no binary'), { code: 'ERR_DLOPEN_FAILED' })) });
  for (let i = 0; i < 3; i++) assert.equal(await access.read(Buffer.from(`/x/${i}`), `x/${i}`, 1n), undefined);
  await access.write(Buffer.from('/x/w'), 'x/w', new Map([['user.a', new Uint8Array([1])]]));
  assert.deepEqual(warnings.map((w) => w.code), ['ENOTSUP']);
});

test('a file system refusing xattrs (ENOTSUP) warns once and is not asked again; others still are', async () => {
  const { addon, calls } = fakeAddon({ list: 95 });
  const warnings: Warning[] = [];
  const access = createXattrAccess({ onWarning: (w) => warnings.push(w), load: async () => addon });
  for (let i = 0; i < 5; i++) assert.equal(await access.read(Buffer.from(`/a/${i}`), `a/${i}`, 7n), undefined);
  assert.equal(calls.list, 1, 'one listxattr, then the device is skipped');
  await access.read(Buffer.from('/b'), 'b', 8n);
  assert.equal(calls.list, 2, 'another device is still asked');
  assert.deepEqual(warnings.map((w) => w.code), ['ENOTSUP', 'ENOTSUP']);
  assert.deepEqual(warnings.map((w) => w.path), ['a/0', 'b']);
});

test('one listxattr per item; other read errors warn per item; a non-UTF-8 path is skipped', async () => {
  const { addon, calls } = fakeAddon();
  const warnings: Warning[] = [];
  const access = createXattrAccess({ onWarning: (w) => warnings.push(w), load: async () => addon });
  assert.deepEqual(await access.read(Buffer.from('/ok'), 'ok', 1n), new Map([['user.a', new Uint8Array(Buffer.from('v'))]]));
  assert.deepEqual(calls, { list: 1, get: 1, set: 0 });
  for (const name of [Buffer.from([0x2f, 0xff]), Buffer.from([0x2f, 0xfe])]) assert.equal(await access.read(name, '\ufffd', 1n), undefined);
  assert.equal(calls.list, 1, 'the addon cannot name a non-UTF-8 path: not asked, no warning (documented)');
  const denied = fakeAddon({ list: 13 });
  const access2 = createXattrAccess({ onWarning: (w) => warnings.push(w), load: async () => denied.addon });
  await access2.read(Buffer.from('/p'), 'p', 1n);
  await access2.read(Buffer.from('/q'), 'q', 1n);
  assert.deepEqual(warnings.map((w) => w.code), ['EACCES', 'EACCES']);
});

test('restoring onto a file system that refuses xattrs warns once and stops setting them there', async () => {
  const f = await makeFixture();
  try {
    const dest = join(f.dir, 'target');
    await writeFile(dest, '');
    const { addon, calls } = fakeAddon({ set: 95 });
    const warnings: Warning[] = [];
    const access = createXattrAccess({ onWarning: (w) => warnings.push(w), load: async () => addon });
    const two = new Map([['user.a', new Uint8Array([1])], ['user.b', new Uint8Array([2])]]);
    await access.write(Buffer.from(dest), 'target', two);
    await access.write(Buffer.from(dest), 'target', two);
    assert.equal(calls.set, 1);
    assert.deepEqual(warnings.map((w) => w.code), ['ENOTSUP']);
    const perm = fakeAddon({ set: 1 });
    const access2 = createXattrAccess({ onWarning: (w) => warnings.push(w), load: async () => perm.addon });
    await access2.write(Buffer.from(dest), 'target', two);
    assert.equal(perm.calls.set, 2, 'EPERM is per attribute: the others are still tried');
    assert.deepEqual(warnings.map((w) => w.code), ['ENOTSUP', 'EPERM', 'EPERM']);
    // Known xattrs that cannot be restored because the addon cannot name the path: a warning, not silence.
    await access2.write(Buffer.concat([Buffer.from(dest), Buffer.from([0xff])]), 'target\ufffd', two);
    assert.equal(perm.calls.set, 2);
    assert.equal(warnings.at(-1)?.code, 'EILSEQ');
  } finally {
    await f.cleanup();
  }
});
