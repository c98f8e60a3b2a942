/** What the transfer tests share: the destination's passphrase and environment, and the shape of `transfer --json`. */
import { PASSPHRASE } from './helpers.js';

export const DST_PASSPHRASE = 'another passphrase for the destination';
/** The environment of a command on the destination: its own passphrase, the source's as the other one. */
export const DST_ENV = { CAIRN_PASSPHRASE: DST_PASSPHRASE, CAIRN_OTHER_PASSPHRASE: PASSPHRASE };

export interface Usage { requests: Record<string, number>; retries: number; bytesUp: number; bytesDown: number }
export interface TransferJson {
  archives: { name: string; status: string; chunks: number; bytes: number; stored: number }[];
  transferred: number; chunks: number; bytes: number; stored: number; present: number; dryRun: boolean;
  backend: Usage; otherBackend: Usage;
}
