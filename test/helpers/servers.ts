/**
 * Starts a local test server (see localstack/launch.mjs) for the duration of a test file.
 * When CI=true a server that cannot start fails the run; elsewhere the caller may skip.
 */
// @ts-expect-error -- plain JavaScript module without type declarations
import { startServer } from '../../localstack/launch.mjs';

export interface RunningServer {
  name: string;
  pid: number;
  /** What a client needs: endpoint, credentials, bucket..., as the server's start.mjs reported. */
  env: Record<string, string>;
  stateDir: string;
  stop(): Promise<void>;
}

export const inCI = process.env.CI === 'true';

/**
 * Starts `name` (`env`: a mode for its start.mjs, e.g. `{ CAIRN_AZURE_MODE: 'oauth' }`); in CI
 * rethrows any failure, elsewhere returns the error so the test can skip.
 */
export async function tryStartServer(name: string, options: { env?: Record<string, string> } = {}): Promise<RunningServer | Error> {
  try {
    return (await startServer(name, options)) as RunningServer;
  } catch (err) {
    if (inCI) throw err;
    return err as Error;
  }
}

export { startServer };
