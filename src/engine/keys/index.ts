/** Keys: modes, creation, opening, passphrase changes, export/import and passphrase input. */
export { createKey, openKey, changePassphrase, describeKey, keyFingerprint, deriveLocalKey, sameIdKey, idKeyFingerprint } from './manage.js';
export type { CreateKeyOptions } from './manage.js';
export { exportKey, importKey } from './export.js';
export type { ExportFormat } from './export.js';
export { readPassphrase } from './passphrase.js';
export type { ReadPassphraseOptions, PromptInput } from './passphrase.js';
export { DEFAULT_KDF } from './kdf.js';
export type { KdfParams } from './kdf.js';
export { MODE_IDS, parseMode, storedInRepository, suiteOfMode } from './modes.js';
export type { KeyMaterial, KeyMode } from './modes.js';
