/**
 * Mounting and unmounting: checks the mountpoint and /dev/fuse, starts the FUSE worker (fuse-worker.ts), answers its
 * calls from a `MountView` on this thread, and unmounts on request. The worker blocks on a shared flag while this
 * thread answers, so this thread's event loop (chunk fetches, signals) never waits for libfuse.
 */
import { readdir, readFile, realpath, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { spawn } from 'node:child_process';
import { MessageChannel, Worker } from 'node:worker_threads';
import { MountError } from './errors.js';
import type { MountView } from './view.js';
import type { FsRequest, WorkerSetup, WorkerStatus } from './protocol.js';

/** A mounted file system. `ended` resolves once it is unmounted (by `unmount()` or by `umount` from outside). */
export interface MountedFs {
  readonly mountpoint: string;
  readonly ended: Promise<void>;
  unmount(): Promise<void>;
}

/** Seconds the kernel may keep names and attributes: an archive never changes. */
const CACHE_SECONDS = 3600;

/** The worker's entry: the .js beside this file when built, else a data: module that registers tsx first (ADR 0013). */
function workerEntry(): URL {
  if (!import.meta.url.endsWith('.ts')) return new URL('./fuse-worker.js', import.meta.url);
  const target = new URL('./fuse-worker.ts', import.meta.url).href;
  const tsxApi = import.meta.resolve('tsx/esm/api');
  const code = `const { register } = await import(${JSON.stringify(tsxApi)}); register(); await import(${JSON.stringify(target)});`;
  return new URL(`data:text/javascript,${encodeURIComponent(code)}`);
}

/** The mount points of this process's namespace (/proc/self/mountinfo, field 5, octal escapes undone). */
async function mountPoints(): Promise<Set<string>> {
  const text = await readFile('/proc/self/mountinfo', 'utf8').catch(() => '');
  return new Set(text.split('\n').filter(Boolean).map((line) => line.split(' ')[4]!.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)))));
}

/**
 * Resolves `mountpoint` to an absolute path after checking that FUSE can be used and that it is an empty folder that
 * nothing is mounted on.
 */
export async function checkMountpoint(mountpoint: string): Promise<string> {
  const fuse = await stat('/dev/fuse').catch(() => undefined);
  if (!fuse?.isCharacterDevice()) throw new MountError('ENO_FUSE', '/dev/fuse is missing: load the fuse kernel module ("modprobe fuse"), or in a container pass --device /dev/fuse; "cairn serve" needs no FUSE');
  let path: string;
  try {
    path = await realpath(mountpoint);
  } catch {
    throw new MountError('EMOUNTPOINT_MISSING', `mountpoint ${mountpoint} does not exist: create an empty folder first (mkdir)`);
  }
  if (!(await stat(path)).isDirectory()) throw new MountError('EMOUNTPOINT_MISSING', `mountpoint ${mountpoint} is not a folder: name an empty folder`);
  if ((await mountPoints()).has(path)) throw new MountError('EMOUNTPOINT_BUSY', `mountpoint ${mountpoint} is already mounted on: unmount it first ("umount ${path}"), or choose another folder`);
  if ((await readdir(path)).length > 0) throw new MountError('EMOUNTPOINT_BUSY', `mountpoint ${mountpoint} is not empty: choose an empty folder (its files would be hidden while mounted)`);
  return path;
}

/** Starts the worker and resolves once libfuse has mounted `view` at `mountpoint` (absolute, checked). */
export async function startMount(view: MountView, mountpoint: string): Promise<MountedFs> {
  const flag = new SharedArrayBuffer(4);
  const wake = new Int32Array(flag);
  const { port1: replies, port2: workerEnd } = new MessageChannel();
  const setup: WorkerSetup & { replies: typeof workerEnd } = {
    mountpoint, flag, cacheSeconds: CACHE_SECONDS, replies: workerEnd,
    options: 'ro,default_permissions,fsname=cairn,subtype=cairn',
  };
  const worker = new Worker(workerEntry(), { workerData: setup, transferList: [workerEnd] });
  const device = (await stat(mountpoint)).dev;
  let onMounted!: () => void;
  let onFailed!: (error: Error) => void;
  const mounted = new Promise<void>((resolve, reject) => { onMounted = resolve; onFailed = reject; });
  let onEnded!: () => void;
  const ended = new Promise<void>((resolve) => { onEnded = resolve; });

  worker.on('message', (message: FsRequest | WorkerStatus) => {
    if ('status' in message) {
      if (message.status === 'mounted') onMounted();
      else if (message.status === 'failed') onFailed(new MountError(message.code, message.message));
      return;
    }
    void view.answer(message).then((reply) => {
      replies.postMessage(reply);
      Atomics.store(wake, 0, 1);
      Atomics.notify(wake, 0);
    });
  });
  worker.on('error', (error) => onFailed(new MountError('EMOUNT_FAILED', `the FUSE worker failed: ${error.message}`, { cause: error })));
  worker.on('exit', () => {
    replies.close();
    onFailed(new MountError('EMOUNT_FAILED', 'the FUSE worker ended before mounting'));
    onEnded();
  });
  await mounted;
  const mountedDevice = (await stat(mountpoint)).dev;
  return {
    mountpoint,
    ended,
    async unmount() {
      if (mountedDevice !== device) await unmountPath(mountpoint, mountedDevice);
      await ended;
    },
  };
}

/**
 * Unmounts `mountpoint`. As root: umount2(2) (off this thread, which must keep answering), and when something is still
 * open in the mount, a lazy unmount plus an abort of the FUSE connection so the loop ends now. Otherwise:
 * fusermount3 -u (or fusermount -u), which unmounts only what this user mounted.
 */
async function unmountPath(mountpoint: string, device: number): Promise<void> {
  if (process.getuid?.() === 0) {
    const koffi = createRequire(import.meta.url)('koffi') as typeof import('koffi');
    const umount2 = koffi.load(null).func('int umount2(const char *target, int flags)');
    const call = (flags: number): Promise<number> => new Promise((resolve, reject) => umount2.async(mountpoint, flags, (err: unknown, rc: number) => (err ? reject(err) : resolve(rc))));
    if ((await call(0)) === 0) return;
    const MNT_DETACH = 2;
    if ((await call(MNT_DETACH)) !== 0) throw new MountError('EMOUNT_FAILED', `could not unmount ${mountpoint}: run "umount -l ${mountpoint}"`);
    // The connection's id is the mount's device minor number (Linux: minor = low 8 bits | bits 20..).
    const minor = (device & 0xff) | ((device >> 12) & ~0xff);
    await writeFile(`/sys/fs/fuse/connections/${minor}/abort`, '1').catch(() => undefined);
    return;
  }
  for (const tool of ['fusermount3', 'fusermount']) {
    const rc = await new Promise<number | 'missing'>((resolve) => {
      const child = spawn(tool, ['-u', '-z', mountpoint], { stdio: 'ignore' });
      child.on('error', () => resolve('missing'));
      child.on('exit', (code) => resolve(code ?? 1));
    });
    if (rc === 0) return;
    if (rc !== 'missing') break;
  }
  throw new MountError('EMOUNT_FAILED', `could not unmount ${mountpoint}: run "fusermount3 -u ${mountpoint}"`);
}

