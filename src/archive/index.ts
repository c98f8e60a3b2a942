/**
 * The archive layer's public surface: items, create, extract, list, info, diff, delete, check,
 * compact (mark and sweep), the files cache, patterns, and opening a repository with its key.
 */
export type { ArchiveContext, ChunkCodec, ChunkPurpose, ChunkRepository } from './ports.js';
export {
  ArchiveError, ArchiveExistsError, ArchiveNotFoundError, PathNotFoundError, ArchiveNameError, ArchiveCorruptError, RecordUnreadableError, UnsafePathError, PatternError, InterruptedError, TarFormatError,
  RepositorySecurityError, UnrelatedRepositoryError, type ArchiveErrorCode, type SecurityErrorCode,
} from './errors.js';
export {
  encodeItem, decodeItems, itemKind, pathText, pathBytes, type Item, type ItemKind, type ChunkRef,
} from './item.js';
export { compilePattern, compilePatterns, type PathMatcher, type PatternOptions } from './patterns.js';
export { archiveRootPath, type Warning } from './walk.js';
export { FilesCache, repositoryCacheDir } from './files-cache.js';
export {
  recordName, recordId, readRecord as readArchive, listArchiveNames, listArchiveRecords, isUnreadableRecord, type ArchiveRecord, type NewArchiveRecord, type ArchiveStats,
} from './archive-record.js';
export { createArchive, NoSourceError, type StreamSource, type CreateOptions, type CreateProgress, type CreateResult, type CreateStats, type ItemStatus } from './create.js';
export { countSources, type SourceTotals } from './source-count.js';
export { extractArchive, type ExtractOptions, type ExtractProgress, type ExtractResult } from './extract.js';
export { listArchives, type ListArchivesOptions, listItems, itemJson, formatItem, modeText, isoTime, DEFAULT_ITEM_FORMAT } from './list.js';
export { archiveInfo, type ArchiveInfo } from './info.js';
export {
  selectArchives, listSelectedArchives, hasSelection, groupArchives, type ArchiveSelection, type SelectableArchive, type GroupField, type ArchiveGroupKey,
} from './select.js';
export { diffArchives, type DiffEntry, type DiffChange } from './diff.js';
export { deleteArchives, type DeleteOptions } from './delete.js';
export { renameArchive, type RenameHooks } from './rename.js';
export { repositoryStats, type RepositoryStats, type ArchiveUsage, type ChunkTotals, type StatsOptions } from './stats.js';
export { findItems, type FindOptions, type FindHits, type FindResult } from './find.js';
export { openArchiveTree, type ArchiveTree, type ArchiveTreeOptions, type TreeEntry } from './browse.js';
export { dumpArchive, normalizeArchivePath, type DumpOptions, type DumpResult, type DumpSink } from './dump.js';
export { tarHeader, tarEnd, type TarHeader, type TarType } from './tar-format.js';
export {
  transferArchives, checkRelated, type TransferOptions, type TransferResult, type TransferredArchive, type TransferProgress, type TransferStatus,
} from './transfer.js';
export { checkArchives, type CheckArchivesOptions, type CheckArchivesReport, type ArchiveProblem } from './check.js';
export { writeCheckRecord, readCheckRecord, type CheckRecord } from './check-record.js';
export {
  planArchiveRepair, applyArchiveRepair, type ArchiveRepairPlan, type ArchiveRepairOptions, type ArchiveRepairResult, type SalvagedFile,
} from './salvage.js';
export { scanOpener, type ScannedChunks } from './check-scan.js';
export { sweepUnreferenced, compactArchives, type CompactResult } from './compact.js';
export { readSettings, writeSettings, SETTINGS_RECORD, type ArchiveSettings } from './settings.js';
export { createEngineCodec, ITEMS_CHUNKER, type EngineChunkCodec, type EngineCodecOptions } from './engine-codec.js';
export {
  initRepository, openRepository, type OpenedRepository, type InitOptions, type OpenRepositoryOptions, type PassphraseSource,
  type SecurityOptions,
} from './open.js';
export {
  keyFilePath, locateKeyBlob, importRepositoryKey, changeRepositoryPassphrase, checkKeyRepository, type KeyLocation, type LocatedKey,
} from './repository-key.js';
export { writeKeyFile } from './key-file.js';
export { localRepositoryState, removeLocalRepositoryState } from './local-state.js';
export { securityBaseDir, securityStatePath, loadSecurityState, saveSecurityState, type SecurityState } from './security-state.js';
export {
  auditArchiveSet, repairArchiveSet, createArchiveJournal, TAMPER_KINDS, type ArchiveJournal, type ArchiveSetAudit, type ArchiveSetFinding, type JournalArchive,
} from './journal.js';
export {
  applyPrunePolicy, parseInterval, hasRules, PruneRulesError,
  type PrunableArchive, type PruneRules, type PruneRuleName, type KeptArchive, type PruneDecision,
} from './prune-policy.js';
export { importTar, type ImportTarOptions, type ImportTarResult } from './tar-import.js';
export { tarFilterOf, checkTarFilter, compressingSink, decompressed, ZstdUnavailableError, type TarFilter } from './tar-filter.js';
export { readTar, MAX_META, type TarEntry, type TarMember } from './tar-read.js';
