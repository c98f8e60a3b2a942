/**
 * The price table behind the estimated cost line: list prices per provider, built in for the
 * public clouds and overridable by a JSON file (`--prices FILE` or `CAIRN_PRICES`), keyed by
 * backend name (`s3`, `gcs`, `azure`, or any other backend such as `sftp`, `fs`).
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { BackendUsage, RequestKind } from '../index.js';
import { UsageError } from './errors.js';

/** Prices of one provider: per 1000 requests of each kind, and per GiB moved each way. */
export interface PriceTable {
  currency: string;
  requestsPer1000: Record<RequestKind, number>;
  perGiB: { up: number; down: number };
}

/**
 * List prices in USD (standard storage class, us-east-1 / US multi-region / East US hot LRS,
 * internet egress, first tier) as published in 2025. An estimate, not a bill: regions, classes,
 * free tiers and discounts differ. docs/backends.md repeats this table.
 */
export const BUILT_IN_PRICES: Record<string, PriceTable> = {
  s3: { currency: 'USD', requestsPer1000: { put: 0.005, list: 0.005, get: 0.0004, head: 0.0004, delete: 0 }, perGiB: { up: 0, down: 0.09 } },
  gcs: { currency: 'USD', requestsPer1000: { put: 0.005, list: 0.005, get: 0.0004, head: 0.0004, delete: 0 }, perGiB: { up: 0, down: 0.12 } },
  azure: { currency: 'USD', requestsPer1000: { put: 0.0065, list: 0.0065, get: 0.0005, head: 0.0005, delete: 0 }, perGiB: { up: 0, down: 0.087 } },
};

const KINDS: RequestKind[] = ['get', 'put', 'list', 'head', 'delete'];

/** Reads and checks a price file; a bad one is a usage error naming the file. */
export function loadPrices(file: string, cwd: string): Record<string, PriceTable> {
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(resolve(cwd, file), 'utf8'));
  } catch (err) {
    throw new UsageError(`cannot read the price table ${file}: ${(err as Error).message.split('\n')[0]}`);
  }
  const bad = () => new UsageError(`price table ${file}: use { "s3": { "currency": "USD", "requestsPer1000": { "get": 0.0004, "put": 0.005, "list": 0.005, "head": 0.0004, "delete": 0 }, "perGiB": { "up": 0, "down": 0.09 } } } (see docs/backends.md)`);
  if (data === null || typeof data !== 'object' || Array.isArray(data)) throw bad();
  const out: Record<string, PriceTable> = {};
  for (const [name, value] of Object.entries(data as Record<string, unknown>)) {
    const t = value as Partial<PriceTable> | null;
    const num = (v: unknown) => typeof v === 'number' && Number.isFinite(v) && v >= 0;
    if (!t || typeof t.currency !== 'string' || !t.requestsPer1000 || !t.perGiB || !num(t.perGiB.up) || !num(t.perGiB.down)
      || !KINDS.every((k) => num(t.requestsPer1000![k]))) throw bad();
    out[name] = { currency: t.currency, requestsPer1000: { ...t.requestsPer1000 }, perGiB: { up: t.perGiB.up, down: t.perGiB.down } };
  }
  return out;
}

/**
 * The table for this run: the file's entry for `backend` when a file is given; else the built-in
 * one, but only for the provider's own service (a URL with `endpoint=` is another company's or
 * an emulator, whose prices cairn does not know).
 */
export function pricesFor(backend: string, location: string, file: string | undefined, cwd: string): PriceTable | undefined {
  if (file) return loadPrices(file, cwd)[backend];
  return /[?&]endpoint=/.test(location) ? undefined : BUILT_IN_PRICES[backend];
}

/** The estimated cost of `usage` under `table`: requests and transfer, in the table's currency. */
export function estimateCost(usage: BackendUsage, table: PriceTable): { requests: number; transfer: number; total: number } {
  const requests = KINDS.reduce((sum, k) => sum + (usage.requests[k] * table.requestsPer1000[k]) / 1000, 0);
  const transfer = (usage.bytesUp * table.perGiB.up + usage.bytesDown * table.perGiB.down) / 1024 ** 3;
  return { requests, transfer, total: requests + transfer };
}
