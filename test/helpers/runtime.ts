/** Which runtime ran a benchmark, for every table header and JSON file (figures from Node 20 and 24 must never be mixed up). */
import { availableParallelism, cpus } from 'node:os';
import { getHeapStatistics } from 'node:v8';
import { loadRawCodecs } from '../../src/engine/compress/index.js';

export interface RuntimeInfo {
  node: string;
  v8: string;
  execPath: string;
  zstd: string;
  heapLimitMiB: number;
  cpus: number;
}

/** The running Node, V8, zstd implementation, V8 heap limit and CPU count. */
export async function runtimeInfo(): Promise<RuntimeInfo> {
  return {
    node: process.version,
    v8: process.versions.v8,
    execPath: process.execPath,
    zstd: (await loadRawCodecs()).zstdImplementation,
    heapLimitMiB: Math.round(getHeapStatistics().heap_size_limit / 2 ** 20),
    cpus: typeof availableParallelism === 'function' ? availableParallelism() : cpus().length,
  };
}

/** One line: `node v24.22.3 (V8 13.6…, zstd node:zlib, heap limit 4144 MiB, 2 CPUs)`. */
export async function runtimeLine(): Promise<string> {
  const r = await runtimeInfo();
  return `node ${r.node} (V8 ${r.v8}, zstd ${r.zstd}, heap limit ${r.heapLimitMiB} MiB, ${r.cpus} CPUs, ${r.execPath})`;
}
