/** Why `cairn mount` cannot mount, each with a stable `code` (the CLI exits 2 with the message). */
export type MountErrorCode = 'EMOUNTPOINT_MISSING' | 'EMOUNTPOINT_BUSY' | 'ENO_FUSE' | 'EMOUNT_FAILED';

export class MountError extends Error {
  readonly code: MountErrorCode;
  constructor(code: MountErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MountError';
    this.code = code;
  }
}
