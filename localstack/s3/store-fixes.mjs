// Replaces the methods of s3rver 3.7.1's FilesystemStore that differ from real S3. Each fix
// is named in README.md. Loaded against that exact version only (start.mjs checks it).
//
// On-disk layout kept from s3rver: key `a/b/c` is the file `<bucket>/a/b/c._S3rver_object`,
// with `c._S3rver_object.md5` and `c._S3rver_metadata.json` beside it. Our `.md5` file holds
// `<inode>:<md5 hex>` so a reader can tell whether the ETag belongs to the bytes it opened.
import { Buffer } from 'node:buffer';
import { createHash, randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { join, dirname, relative, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable, Transform } from 'node:stream';
import { requestContext } from './context.mjs';

const OBJECT_SUFFIX = '._S3rver_object';

const ignoreMissing = (err) => { if (err.code !== 'ENOENT') throw err; };

/** Writes `data` to `path` through a temporary name and a rename, so readers see old or new. */
async function writeAtomic(path, data) {
  const tmp = `${path}.tmp-${randomBytes(6).toString('hex')}`;
  await fsp.writeFile(tmp, data);
  await fsp.rename(tmp, path);
}

/** MD5 of an open file, read positionally (used only when an overwrite raced a reader). */
async function md5OfHandle(fh, size) {
  const hash = createHash('md5');
  const buf = Buffer.allocUnsafe(1 << 20);
  for (let pos = 0; pos < size;) {
    const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, size - pos), pos);
    if (bytesRead === 0) break;
    hash.update(buf.subarray(0, bytesRead));
    pos += bytesRead;
  }
  return hash.digest('hex');
}

/** Every object key under `bucketPath` that could start with `prefix`, unsorted. */
async function walkKeys(bucketPath, prefix) {
  const keys = [];
  const visit = async (dir) => {
    let entries;
    try { entries = await fsp.readdir(dir, { withFileTypes: true }); } catch (err) { ignoreMissing(err); return; }
    for (const entry of entries) {
      const path = join(dir, entry.name);
      const rel = relative(bucketPath, path).split(sep).join('/');
      if (entry.isDirectory()) {
        // Descend only where keys starting with `prefix` can live.
        const asPrefix = `${rel}/`;
        if (asPrefix.startsWith(prefix) || prefix.startsWith(asPrefix)) await visit(path);
      } else if (entry.name.endsWith(OBJECT_SUFFIX)) {
        const key = rel.slice(0, -OBJECT_SUFFIX.length);
        if (key.startsWith(prefix)) keys.push(key);
      }
    }
  };
  await visit(bucketPath);
  return keys;
}

const byteOrder = (a, b) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));

/** Patches `store` (an s3rver FilesystemStore) in place; `S3Object` is s3rver's model class. */
export function applyStoreFixes(store, S3Object) {
  const paths = (bucket, key) => ({
    object: store.getResourcePath(bucket, key, 'object'),
    md5: store.getResourcePath(bucket, key, 'object.md5'),
    meta: store.getResourcePath(bucket, key, 'metadata.json'),
  });

  /** Metadata of the object open as `fh`: the ETag is checked against the file's inode. */
  const metadataOf = async (bucket, key, fh) => {
    const p = paths(bucket, key);
    const st = await fh.stat();
    const [stored, md5Line] = await Promise.all([
      fsp.readFile(p.meta, 'utf8').then(JSON.parse).catch((err) => { ignoreMissing(err); return {}; }),
      fsp.readFile(p.md5, 'utf8').catch((err) => { ignoreMissing(err); return ''; }),
    ]);
    const [ino, etag] = md5Line.includes(':') ? md5Line.split(':') : ['', md5Line];
    const sameFile = ino === String(st.ino) && etag;
    return {
      ...stored,
      etag: JSON.stringify(sameFile ? etag : await md5OfHandle(fh, st.size)),
      'last-modified': st.mtime.toUTCString(),
      'content-length': st.size,
    };
  };

  // Fix: metadata read from the same inode as the bytes (no mix of old and new object).
  store.getMetadata = async (bucket, key) => {
    const fh = await fsp.open(paths(bucket, key).object, 'r');
    try { return await metadataOf(bucket, key, fh); } finally { await fh.close(); }
  };

  // Fix: ranges per RFC 9110 as S3 applies them (suffix `-N`, `0-0`, past-the-end, empty object),
  // and the bytes, size and ETag all come from one open file, so an overwrite cannot tear a read.
  store.getObject = async (bucket, key) => {
    let fh;
    try { fh = await fsp.open(paths(bucket, key).object, 'r'); } catch (err) { ignoreMissing(err); return null; }
    try {
      const metadata = await metadataOf(bucket, key, fh);
      const size = metadata['content-length'];
      const wanted = requestContext.getStore()?.range;
      let range;
      if (wanted) {
        const start = wanted.suffix !== undefined ? Math.max(0, size - wanted.suffix) : wanted.start;
        const end = wanted.suffix !== undefined ? size - 1 : Math.min(wanted.end ?? Infinity, size - 1);
        range = { start, end };
        if (size === 0 || start > end || (wanted.suffix === 0)) {
          await fh.close();
          const object = new S3Object(bucket, key, null, metadata);
          object.range = range; // no content: the controller answers 416 InvalidRange
          return object;
        }
      }
      const content = fh.createReadStream(range ? { start: range.start, end: range.end } : {});
      const object = new S3Object(bucket, key, content, metadata);
      if (range) object.range = range;
      return object;
    } catch (err) {
      await fh.close().catch(() => {});
      throw err;
    }
  };

  // Fix: write to a temporary name, then rename: a reader sees the old object or the new one.
  store.putObject = async (object, etagOverride) => {
    // An aws-chunked body was decoded by the front layer: store those bytes, not the framing.
    const decoded = requestContext.getStore()?.body;
    if (decoded) object.content = decoded;
    const p = paths(object.bucket, object.key);
    await fsp.mkdir(dirname(p.object), { recursive: true });
    const tmp = `${p.object}.tmp-${randomBytes(6).toString('hex')}`;
    const hash = createHash('md5');
    let size = 0;
    try {
      if (Buffer.isBuffer(object.content)) {
        await fsp.writeFile(tmp, object.content);
        hash.update(object.content);
        size = object.content.length;
      } else {
        const fh = await fsp.open(tmp, 'w');
        try {
          await pipeline(object.content, new Transform({
            transform(chunk, _enc, cb) { hash.update(chunk); size += chunk.length; cb(null, chunk); },
          }), fh.createWriteStream());
        } finally { await fh.close().catch(() => {}); }
      }
      const md5 = hash.digest('hex');
      const { ino } = await fsp.stat(tmp);
      const json = {};
      for (const [k, v] of Object.entries(object.metadata)) {
        if (S3Object.ALLOWED_METADATA.includes(k) || k.startsWith('x-amz-meta-')) json[k] = v;
      }
      await writeAtomic(p.meta, JSON.stringify(json, null, 2));
      await writeAtomic(p.md5, `${ino}:${etagOverride ?? md5}`);
      await fsp.rename(tmp, p.object);
      return { size, md5: etagOverride ?? md5 };
    } catch (err) {
      await fsp.unlink(tmp).catch(() => {});
      throw err;
    }
  };

  // Fix: multipart objects get S3's ETag, md5(concatenated part md5s) + "-<parts>".
  // UploadPart with an aws-chunked body: the decoded bytes, as for putObject.
  const putPart = store.putPart.bind(store);
  store.putPart = (bucket, uploadId, partNumber, content) => {
    const decoded = requestContext.getStore()?.body;
    return putPart(bucket, uploadId, partNumber, decoded ? Readable.from([decoded]) : content);
  };

  store.putObjectMultipart = async (bucket, uploadId, parts) => {
    const uploadDir = join(store.getResourcePath(bucket, undefined, 'uploads'), uploadId);
    const [key, metadata] = await Promise.all([
      fsp.readFile(join(uploadDir, 'key'), 'utf8'),
      fsp.readFile(join(uploadDir, 'metadata'), 'utf8').then(JSON.parse),
    ]);
    const sorted = [...parts].sort((a, b) => a.number - b.number);
    const etagHash = createHash('md5');
    for (const part of sorted) etagHash.update(Buffer.from(await fsp.readFile(join(uploadDir, `${part.number}.md5`), 'utf8'), 'hex'));
    const etag = `${etagHash.digest('hex')}-${sorted.length}`;
    async function* concat() {
      for (const part of sorted) {
        const fh = await fsp.open(join(uploadDir, String(part.number)), 'r');
        try { for await (const chunk of fh.createReadStream({ autoClose: false })) yield chunk; } finally { await fh.close(); }
      }
    }
    const result = await store.putObject(new S3Object(bucket, key, Readable.from(concat()), metadata), etag);
    await fsp.rm(uploadDir, { recursive: true, force: true });
    return result;
  };

  // Fix: unlink only. s3rver also removed emptied folders with a readdir/rmdir sequence that
  // races with parallel deletes (500 on DeleteObjects) and with puts into the same folder.
  store.deleteObject = async (bucket, key) => {
    const p = paths(bucket, key);
    await fsp.unlink(p.object).catch(ignoreMissing);
    await Promise.all([fsp.unlink(p.md5).catch(ignoreMissing), fsp.unlink(p.meta).catch(ignoreMissing)]);
  };

  // Fix: a listing in byte order of the whole key (s3rver walked folder by folder, so `p/q`
  // and `p-1` came out of order and keys after a page boundary were lost).
  store.listObjects = async (bucket, options) => {
    const { delimiter = '', startAfter = '', prefix = '', maxKeys = 1000 } = options;
    const bucketPath = store.getBucketPath(bucket);
    const keys = (await walkKeys(bucketPath, prefix)).filter((k) => byteOrder(k, startAfter) > 0).sort(byteOrder);
    const objects = [];
    const commonPrefixes = [];
    let isTruncated = false;
    let lastKey;
    for (const key of keys) {
      const cut = delimiter ? key.indexOf(delimiter, prefix.length) : -1;
      const common = cut === -1 ? undefined : key.slice(0, cut + delimiter.length);
      if (common !== undefined && common === commonPrefixes.at(-1)) continue;
      if (objects.length + commonPrefixes.length >= maxKeys) { isTruncated = true; break; }
      if (common !== undefined) {
        commonPrefixes.push(common);
        lastKey = `${common}\u{10FFFF}`; // resume after every key under this common prefix
        continue;
      }
      let metadata;
      try { metadata = await store.getMetadata(bucket, key); } catch (err) { ignoreMissing(err); continue; }
      objects.push(new S3Object(bucket, key, null, metadata));
      lastKey = key;
    }
    return { objects, commonPrefixes, isTruncated, lastKey };
  };

  return store;
}
