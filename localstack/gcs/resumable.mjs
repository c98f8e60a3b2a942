/* global Buffer, URLSearchParams */
// Resumable uploads for the GCS front layer, following the JSON API protocol: an initiation POST
// returns a session URI; PUTs carry `Content-Range: bytes A-B/TOTAL|*`; an incomplete upload is
// answered 308 with `Range: bytes=0-N`; `bytes */TOTAL|*` asks for the state; the chunk that
// completes TOTAL creates the object (preconditions checked then). The emulator takes one chunk only.
import { appendFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';

const GRANULARITY = 256 * 1024; // real GCS: every chunk but the last is a multiple of 256 KiB

/**
 * Session store. `finishUpload(res, { bucket, name, query, bytes, contentType })` stores the
 * completed object (under the object lock, preconditions from the initiation's `query`).
 */
export function createResumableSessions({ stateDir, port, finishUpload, sendError }) {
  const dir = join(stateDir, 'resumable');
  mkdirSync(dir, { recursive: true });
  const sessions = new Map();

  /** Initiation: `POST /upload/storage/v1/b/B/o?uploadType=resumable&name=...`, JSON metadata body. */
  function start(req, res, bucket, query, body) {
    const meta = body.length ? JSON.parse(body.toString('utf8')) : {};
    const name = query.get('name') ?? meta.name;
    if (!name) return sendError(res, 400, 'required', 'Required parameter: name');
    const id = randomUUID();
    const file = join(dir, id);
    writeFileSync(file, Buffer.alloc(0));
    const preconditions = new URLSearchParams();
    for (const k of ['ifGenerationMatch', 'ifGenerationNotMatch']) if (query.has(k)) preconditions.set(k, query.get(k));
    sessions.set(id, {
      bucket, name, file, received: 0, done: false, preconditions,
      contentType: req.headers['x-upload-content-type'] ?? meta.contentType, retention: meta.retention ?? undefined,
    });
    const location = `http://127.0.0.1:${port}/upload/storage/v1/b/${encodeURIComponent(bucket)}/o?${new URLSearchParams({ uploadType: 'resumable', name, upload_id: id })}`;
    res.writeHead(200, { location, 'content-length': 0 });
    res.end();
  }

  function incomplete(res, s) {
    const headers = { 'content-length': 0 };
    if (s.received > 0) headers.range = `bytes=0-${s.received - 1}`;
    res.writeHead(308, headers);
    res.end();
  }

  /** A chunk or a status query on session `id`. */
  async function put(req, res, id, body) {
    const s = sessions.get(id);
    if (!s) return sendError(res, 404, 'notFound', 'No such upload session.');
    if (s.done) return sendError(res, 410, 'gone', 'The upload session has finished.');
    const range = req.headers['content-range'] ?? `bytes 0-${body.length - 1}/${body.length}`;
    const status = /^bytes \*\/(\d+|\*)$/.exec(range);
    const chunk = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(range);
    let total;
    if (status) {
      if (body.length) return sendError(res, 400, 'invalid', 'A status query carries no body.');
      total = status[1] === '*' ? undefined : Number(status[1]);
    } else if (chunk) {
      const first = Number(chunk[1]);
      total = chunk[3] === '*' ? undefined : Number(chunk[3]);
      if (Number(chunk[2]) - first + 1 !== body.length) return sendError(res, 400, 'invalid', 'Content-Range does not match the body length.');
      if (total === undefined && body.length % GRANULARITY !== 0) return sendError(res, 400, 'invalid', 'A non-final chunk must be a multiple of 256 KiB.');
      if (first > s.received) return incomplete(res, s); // a gap: the client must resume from Range
      const fresh = body.subarray(s.received - first); // bytes already received are ignored
      appendFileSync(s.file, fresh);
      s.received += fresh.length;
    } else {
      return sendError(res, 400, 'invalid', `Bad Content-Range: ${range}`);
    }
    if (total === undefined || s.received < total) return incomplete(res, s);
    if (s.received > total) return sendError(res, 400, 'invalid', 'More bytes than the declared total.');
    s.done = true;
    try {
      const bytes = readFileSync(s.file);
      return await finishUpload(res, { bucket: s.bucket, name: s.name, query: s.preconditions, bytes, contentType: s.contentType, retention: s.retention });
    } finally {
      rmSync(s.file, { force: true });
    }
  }

  return { start, put, has: (id) => id !== null && sessions.has(id) };
}
