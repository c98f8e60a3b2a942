/** Writing a full index (`index/full-<gen>`), shared by compaction and repair. */
import type { Backend } from '../store/backend.js';
import type { ChunkIndex } from './index-table.js';
import { encodeIndex, KIND_FULL, type Txn } from './index-format.js';
import type { SegmentTable } from './index-load.js';
import { fullIndexKey } from './layout.js';
import { ID_SIZE } from './segment-format.js';

/** Stores every entry of `index` as full index `generation`, replacing the keys in `covers`. Returns its key. */
export async function writeFullIndex(backend: Backend, index: ChunkIndex, segments: SegmentTable, txns: Txn[], generation: number, covers: string[]): Promise<string> {
  const count = index.count;
  const putIds = new Uint8Array(count * ID_SIZE);
  const putLocs = new Uint32Array(count * 3);
  const names: string[] = [];
  const local = new Map<number, number>();
  let i = 0;
  for (const e of index.entries()) {
    let at = local.get(e.segment);
    if (at === undefined) { at = names.length; names.push(segments.name(e.segment)); local.set(e.segment, at); }
    putIds.set(e.id, i * ID_SIZE);
    putLocs[i * 3] = at; putLocs[i * 3 + 1] = e.offset; putLocs[i * 3 + 2] = e.size;
    i++;
  }
  const key = fullIndexKey(generation);
  const header = { segments: names, txns, time: Date.now(), puts: count, deletes: 0, generation, covers };
  await backend.put(key, encodeIndex({ kind: KIND_FULL, header, putIds, putLocs, deleteIds: new Uint8Array(0) }), { ifAbsent: true });
  return key;
}
