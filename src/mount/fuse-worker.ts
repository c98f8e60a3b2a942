/**
 * The FUSE worker of `cairn mount`: mounts with libfuse (fuse-binding.ts) and runs its single-threaded loop on this
 * thread. Each call is forwarded to the main thread, which owns the repository, and this thread blocks until the reply
 * is on the reply port (`Atomics.wait` on a shared flag, then `receiveMessageOnPort`): libfuse wants every answer
 * before it returns, and the main thread's event loop stays free to fetch chunks meanwhile. The loop ends when the
 * file system is unmounted (by the main thread on Ctrl-C, or by `umount`).
 */
import { parentPort, receiveMessageOnPort, workerData, type MessagePort } from 'node:worker_threads';
import { fuseUnavailable, mountFuse, writeBuffer, writeStat, type FuseSession } from './fuse-binding.js';
import type { FsReply, FsRequest, WorkerSetup, WorkerStatus } from './protocol.js';

const EIO = 5;
const setup = workerData as WorkerSetup & { replies: MessagePort };
const flag = new Int32Array(setup.flag);
const parent = parentPort!;

function tell(status: WorkerStatus): void {
  parent.postMessage(status);
}

/** Sends `request` to the main thread and waits for its reply. */
function ask(request: FsRequest): FsReply {
  Atomics.store(flag, 0, 0);
  parent.postMessage(request);
  Atomics.wait(flag, 0, 0);
  return (receiveMessageOnPort(setup.replies)?.message as FsReply | undefined) ?? { errno: EIO };
}

/** `op` with any exception turned into EIO: koffi would hand libfuse 0 (success) for a callback that threw. */
function guarded<A extends unknown[]>(op: (...args: A) => number): (...args: A) => number {
  return (...args) => {
    try {
      return op(...args);
    } catch {
      return -EIO;
    }
  };
}

function start(): FuseSession | undefined {
  const why = fuseUnavailable();
  if (why) {
    tell({ status: 'failed', code: 'ENO_FUSE', message: why });
    return undefined;
  }
  try {
    return mountFuse(setup.mountpoint, setup.options, setup.cacheSeconds, {
      getattr: guarded((path: string, stat: unknown) => {
        const r = ask({ op: 'getattr', path });
        if (r.errno || !r.attr) return -(r.errno ?? EIO);
        writeStat(stat, r.attr);
        return 0;
      }),
      readlink: guarded((path: string, buf: unknown, size: number) => {
        const r = ask({ op: 'readlink', path });
        if (r.errno || r.target === undefined || size === 0) return -(r.errno ?? EIO);
        // A C string, cut to the buffer as readlink(2) cuts it.
        const bytes = Buffer.concat([Buffer.from(r.target).subarray(0, size - 1), Buffer.from([0])]);
        writeBuffer(buf, size, bytes);
        return 0;
      }),
      read: guarded((path: string, buf: unknown, size: number, offset: number) => {
        const r = ask({ op: 'read', path, offset, length: size });
        if (r.errno || !r.bytes) return -(r.errno ?? EIO);
        return writeBuffer(buf, size, r.bytes);
      }),
      readdir: guarded((path: string, buf: unknown, fill: (name: string) => boolean) => {
        const r = ask({ op: 'readdir', path });
        if (r.errno || !r.names) return -(r.errno ?? EIO);
        for (const name of ['.', '..', ...r.names]) if (!fill(name)) break;
        return 0;
      }),
    });
  } catch (error) {
    const code = (error as { code?: string }).code === 'ENO_FUSE' ? 'ENO_FUSE' : 'EMOUNT_FAILED';
    tell({ status: 'failed', code, message: (error as Error).message });
    return undefined;
  }
}

const session = start();
if (session) {
  tell({ status: 'mounted' });
  const result = session.loop();
  session.destroy();
  tell({ status: 'ended', result });
}
