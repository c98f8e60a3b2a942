/** `cairn mount`'s library surface: check a mountpoint, mount a view of archives with FUSE, unmount. */
export { MountError, type MountErrorCode } from './errors.js';
export { checkMountpoint, startMount, type MountedFs } from './mount.js';
export { MountView, type MountViewOptions } from './view.js';
