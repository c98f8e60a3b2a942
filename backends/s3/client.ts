/**
 * Builds the S3Client for a parsed URL: explicit endpoint and path style for S3-compatible
 * stores, a `Content-MD5` on every upload (and no newer checksum headers), no SDK retries (the
 * store layer's `withRetry` owns retrying), credentials and region from the SDK's standard chain.
 */
import { createHash } from 'node:crypto';
import { S3Client, type S3ClientConfig, type ServiceInputTypes, type ServiceOutputTypes } from '@aws-sdk/client-s3';
// Types only, of the SDK's own middleware package (a dependency of @aws-sdk/client-s3).
import type { BuildMiddleware } from '@smithy/types';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type { S3Config } from './config.js';

/** Sockets per client: enough for the store layer's concurrency limit. */
const MAX_SOCKETS = 64;
/** The region when neither the URL, the environment nor a profile names one. */
const FALLBACK_REGION = 'us-east-1';

/**
 * Where the region came from, and the bucket's real region once S3 told it (a 301 with
 * `x-amz-bucket-region`): remembered for the process's life (every client of that bucket at that
 * endpoint), so only the first request of a run pays the redirect. A region given in the URL is
 * never replaced (`follows` is false).
 */
export interface RegionMemory {
  /** True when the region was not given in the URL, so a redirect to the bucket's region is followed. */
  readonly follows: boolean;
  /** The region requests are signed for now. */
  current(): Promise<string>;
  /** Use `region` from now on. */
  remember(region: string): void;
}

/** Bucket regions learnt from redirects in this process: `endpoint|bucket` → region. */
const learnt = new Map<string, string>();

/**
 * Credentials: when `env` is not `process.env` (a caller handing a separate environment, e.g.
 * tests), `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`/`AWS_SESSION_TOKEN` and `AWS_PROFILE` are
 * read from it; otherwise, and when it holds none, the SDK's default chain (environment, shared
 * files, SSO, process, web identity, instance metadata) applies unchanged.
 */
export function createClient(config: S3Config, env: NodeJS.ProcessEnv): { client: S3Client; region: RegionMemory } {
  // A separate environment names its region itself; otherwise the SDK's chain (AWS_REGION, then
  // the profile's `region` in ~/.aws/config or AWS_CONFIG_FILE, AWS_PROFILE honoured) decides.
  const fromEnv = env !== process.env ? env.AWS_REGION || env.AWS_DEFAULT_REGION || undefined : undefined;
  const options: S3ClientConfig = {
    // The SDK's own redirect handling is per request (each request to a bucket elsewhere costs a
    // 301 and a second try); the backend follows it once and remembers (RegionMemory).
    followRegionRedirects: false,
    forcePathStyle: config.forcePathStyle,
    // The newest default (CRC checksums on every upload, aws-chunked bodies) is refused by
    // many S3-compatible stores; the SDK's own checksums only where the API demands them, and
    // Content-MD5 on every upload (below), which AWS and every S3-compatible store accept.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: 1,
    requestHandler: {
      connectionTimeout: 10_000,
      httpAgent: new HttpAgent({ keepAlive: true, maxSockets: MAX_SOCKETS }),
      httpsAgent: new HttpsAgent({ keepAlive: true, maxSockets: MAX_SOCKETS }),
    },
  };
  // Given explicitly so that neither AWS_ENDPOINT_URL* nor a profile can swap it for another.
  if (config.endpoint !== undefined) options.endpoint = config.endpoint;
  if (env !== process.env) {
    if (env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY) {
      options.credentials = {
        accessKeyId: env.AWS_ACCESS_KEY_ID,
        secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
        ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}),
      };
    } else if (env.AWS_PROFILE) {
      options.profile = env.AWS_PROFILE;
    }
  }
  // The SDK's own region chain (environment, then the profile's `region`), read from a client made
  // only for that (no request is sent); the real client asks `current`, which falls back to
  // us-east-1 when the chain finds nothing and prefers a region a redirect taught.
  const probe = new S3Client({ ...(options.profile ? { profile: options.profile } : {}) });
  const chain = probe.config.region;
  probe.destroy();
  const where = `${config.endpoint ?? 'aws'}|${config.bucket}`;
  const follows = config.region === undefined;
  let resolved: Promise<string> | undefined;
  const current = (): Promise<string> => {
    if (config.region !== undefined) return Promise.resolve(config.region);
    const remembered = learnt.get(where) ?? fromEnv;
    return remembered !== undefined ? Promise.resolve(remembered) : resolved ??= chain().then((r) => r || FALLBACK_REGION, () => FALLBACK_REGION);
  };
  const client = new S3Client({ ...options, region: config.region ?? current });
  client.middlewareStack.add(contentMd5, { step: 'build', name: 'cairnContentMd5', override: true });
  return { client, region: { follows, current, remember: (r) => { learnt.set(where, r); } } };
}

/** The requests that carry object bytes (PutObject, UploadPart) or a body the store may insist on checking (DeleteObjects). */
const MD5_COMMANDS = new Set(['PutObjectCommand', 'UploadPartCommand', 'DeleteObjectsCommand']);

/**
 * Sets `Content-MD5` on uploads, as restic does: a bucket with Object Lock (default retention)
 * refuses a PUT that carries neither it nor an `x-amz-checksum-*` header, and the store checks the
 * bytes it received against it (400 BadDigest otherwise, which no retry hides). The newer checksum
 * headers are refused by several S3-compatible stores; Content-MD5 is accepted by all of them.
 * Bodies are in memory here (cairn puts byte arrays), so this is one MD5 pass over each upload.
 */
const contentMd5: BuildMiddleware<ServiceInputTypes, ServiceOutputTypes> = (next, context) =>
  async (args) => {
    const request = args.request as { headers?: Record<string, string>; body?: unknown };
    if (MD5_COMMANDS.has(context.commandName ?? '') && request.headers && !hasHeader(request.headers, 'content-md5')) {
      const body = request.body;
      if (body instanceof Uint8Array || typeof body === 'string') {
        request.headers['content-md5'] = createHash('md5').update(body).digest('base64');
      } else if (body === undefined || body === null) {
        request.headers['content-md5'] = createHash('md5').digest('base64');
      }
    }
    return next(args);
  };

function hasHeader(headers: Record<string, string>, name: string): boolean {
  return Object.keys(headers).some((k) => k.toLowerCase() === name);
}
