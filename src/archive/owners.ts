/**
 * User and group names ↔ numeric ids, read once from /etc/passwd and /etc/group
 * (Node has no getpwuid; NSS sources such as LDAP are therefore not consulted).
 */
import { readFileSync } from 'node:fs';

/** Two-way maps between ids and names for users and groups. */
export interface Owners {
  userName(uid: number): string | undefined;
  groupName(gid: number): string | undefined;
  uidOf(name: string): number | undefined;
  gidOf(name: string): number | undefined;
}

function parse(file: string): { byId: Map<number, string>; byName: Map<string, number> } {
  const byId = new Map<number, string>();
  const byName = new Map<string, number>();
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    // No database (containers, Windows): names are simply not recorded.
  }
  for (const line of text.split('\n')) {
    const [name, , id] = line.split(':');
    const n = Number(id);
    if (!name || !Number.isInteger(n)) continue;
    if (!byId.has(n)) byId.set(n, name);
    if (!byName.has(name)) byName.set(name, n);
  }
  return { byId, byName };
}

/** Reads the local user and group databases (`root` is a test hook). */
export function loadOwners(root = '/etc'): Owners {
  const users = parse(`${root}/passwd`);
  const groups = parse(`${root}/group`);
  return {
    userName: (uid) => users.byId.get(uid),
    groupName: (gid) => groups.byId.get(gid),
    uidOf: (name) => users.byName.get(name),
    gidOf: (name) => groups.byName.get(name),
  };
}
