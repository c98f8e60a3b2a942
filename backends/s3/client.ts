/**
 * Builds the S3Client for a parsed URL: explicit endpoint and path style for S3-compatible
 * stores, checksums only where the API requires them, no SDK retries (the store layer's
 * `withRetry` owns retrying), credentials from the SDK's standard chain.
 */
import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type { S3Config } from './config.js';

/** Sockets per client: enough for the store layer's concurrency limit. */
const MAX_SOCKETS = 64;

/**
 * Credentials: when `env` is not `process.env` (a caller handing a separate environment, e.g.
 * tests), `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`/`AWS_SESSION_TOKEN` and `AWS_PROFILE` are
 * read from it; otherwise, and when it holds none, the SDK's default chain (environment, shared
 * files, SSO, process, web identity, instance metadata) applies unchanged.
 */
export function createClient(config: S3Config, env: NodeJS.ProcessEnv): S3Client {
  const options: S3ClientConfig = {
    region: config.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1',
    // Without an explicit region a bucket elsewhere answers 301; follow it instead of failing.
    followRegionRedirects: config.region === undefined,
    forcePathStyle: config.forcePathStyle,
    // The newest default (CRC checksums on every upload, aws-chunked bodies) is refused by
    // many S3-compatible stores; MD5/CRC only where the API demands it works everywhere.
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
  return new S3Client(options);
}
