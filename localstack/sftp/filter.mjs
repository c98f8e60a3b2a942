// An SFTP subsystem that models servers other than OpenSSH, for cairn's tests: it runs Debian's
// OpenSSH sftp-server and relays its packets unchanged, except that
//   --hide NAME[,NAME...]  drops those extensions from the server's VERSION packet (so a client
//                          never learns of them, as with servers that lack them) and answers an
//                          extended request for one with SSH_FX_OP_UNSUPPORTED without passing it on;
//   --rename-replaces      turns every plain SSH_FXP_RENAME into posix-rename@openssh.com, i.e. a
//                          rename(2) that replaces an existing target (what many non-OpenSSH servers
//                          do; OpenSSH's own refuses an existing target, as protocol v3 says).
// sshd runs it as `Subsystem sftp <node> filter.mjs ...` (localstack/sftp/start.mjs, SFTP_HIDE /
// SFTP_RENAME_REPLACES). Packets: uint32 length, byte type, payload (draft-ietf-secsh-filexfer-02).
import { Buffer } from 'node:buffer';
import { spawn } from 'node:child_process';

const SFTP_SERVER = '/usr/lib/openssh/sftp-server';
const args = process.argv.slice(2);
const hidden = new Set((args[args.indexOf('--hide') + 1] ?? '').split(',').filter((n) => args.includes('--hide') && n));
const renameReplaces = args.includes('--rename-replaces');

const FXP_VERSION = 2;
const FXP_RENAME = 18;
const FXP_STATUS = 101;
const FXP_EXTENDED = 200;
const FX_OP_UNSUPPORTED = 8;

const server = spawn(SFTP_SERVER, [], { stdio: ['pipe', 'pipe', 'inherit'] });
server.on('exit', (code) => process.exit(code ?? 0));
process.stdin.on('end', () => server.stdin.end());

/** Calls `onPacket(buffer)` for each whole packet (length prefix included) read from `stream`. */
function packets(stream, onPacket) {
  let pending = Buffer.alloc(0);
  stream.on('data', (chunk) => {
    pending = Buffer.concat([pending, chunk]);
    while (pending.length >= 4 && pending.length >= 4 + pending.readUInt32BE(0)) {
      const size = 4 + pending.readUInt32BE(0);
      onPacket(pending.subarray(0, size));
      pending = pending.subarray(size);
    }
  });
}

const str = (text) => { const b = Buffer.from(text); const n = Buffer.alloc(4); n.writeUInt32BE(b.length); return Buffer.concat([n, b]); };
const u32 = (v) => { const b = Buffer.alloc(4); b.writeUInt32BE(v); return b; };
const frame = (type, body) => Buffer.concat([u32(body.length + 1), Buffer.from([type]), body]);

/** Reads an SSH string at `offset` of `buf`: [value, next offset]. */
function readStr(buf, offset) {
  const n = buf.readUInt32BE(offset);
  return [buf.subarray(offset + 4, offset + 4 + n), offset + 4 + n];
}

packets(process.stdin, (packet) => {
  const type = packet[4];
  if (type === FXP_EXTENDED) {
    const id = packet.readUInt32BE(5);
    const [name] = readStr(packet, 9);
    if (hidden.has(name.toString())) {
      process.stdout.write(frame(FXP_STATUS, Buffer.concat([u32(id), u32(FX_OP_UNSUPPORTED), str('Operation unsupported'), str('')])));
      return;
    }
  }
  if (type === FXP_RENAME && renameReplaces) {
    const id = packet.readUInt32BE(5);
    server.stdin.write(frame(FXP_EXTENDED, Buffer.concat([u32(id), str('posix-rename@openssh.com'), packet.subarray(9)])));
    return;
  }
  server.stdin.write(packet);
});

let first = true;
packets(server.stdout, (packet) => {
  if (first && packet[4] === FXP_VERSION) {
    first = false;
    // uint32 version, then (name, data) string pairs: keep those not hidden.
    const kept = [packet.subarray(5, 9)];
    for (let at = 9; at < packet.length;) {
      const [name, afterName] = readStr(packet, at);
      const [, afterData] = readStr(packet, afterName);
      if (!hidden.has(name.toString())) kept.push(packet.subarray(at, afterData));
      at = afterData;
    }
    process.stdout.write(frame(FXP_VERSION, Buffer.concat(kept)));
    return;
  }
  process.stdout.write(packet);
});
