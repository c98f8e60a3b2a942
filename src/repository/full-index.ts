/** Writing a full index (`index/full-<gen>`), shared by compaction and repair. */
import type { Backend } from '../store/backend.js';
import type { ChunkIndex } from './index-table.js';
import { encodeIndex, KIND_FULL, type Txn } from './index-format.js';
import type { SegmentTable } from './index-load.js';
import { fullIndexKey } from './layout.js';
import { ID_SIZE } from './segment-format.js';

/** Index entries packed for `encodeIndex`: the segment names they use, ids (32 bytes each) and (segment, offset, size) triples. */
export interface PackedPuts {
  names: string[];
  putIds: Uint8Array;
  putLocs: Uint32Array;
}

/**
 * Packs `count` entries as an index object stores them: each entry's segment becomes its number in
 * `names`, the object's own list (numbered in order of first use), not the repository's table.
 */
export function packPuts(entries: Iterable<{ id: Uint8Array; segment: number; offset: number; size: number }>, count: number, segments: SegmentTable): PackedPuts {
  const putIds = new Uint8Array(count * ID_SIZE);
  const putLocs = new Uint32Array(count * 3);
  const names: string[] = [];
  const local = new Map<number, number>();
  let i = 0;
  for (const e of entries) {
    let at = local.get(e.segment);
    if (at === undefined) { at = names.length; names.push(segments.name(e.segment)); local.set(e.segment, at); }
    putIds.set(e.id, i * ID_SIZE);
    putLocs[i * 3] = at; putLocs[i * 3 + 1] = e.offset; putLocs[i * 3 + 2] = e.size;
    i++;
  }
  return { names, putIds, putLocs };
}

/** Stores every entry of `index` as full index `generation`, replacing the keys in `covers`. Returns its key. */
export async function writeFullIndex(backend: Backend, index: ChunkIndex, segments: SegmentTable, txns: Txn[], generation: number, covers: string[]): Promise<string> {
  const { names, putIds, putLocs } = packPuts(index.entries(), index.count, segments);
  const key = fullIndexKey(generation);
  const header = { segments: names, txns, time: Date.now(), puts: index.count, deletes: 0, generation, covers };
  await backend.put(key, encodeIndex({ kind: KIND_FULL, header, putIds, putLocs, deleteIds: new Uint8Array(0) }), { ifAbsent: true });
  return key;
}
