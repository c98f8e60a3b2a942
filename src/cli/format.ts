/** Human-readable numbers and the `--format` templates of `list`/`rlist` (Borg's `{key}` style). */

/** `1536` → `1.50 KiB`. */
export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (Math.abs(n) >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return i === 0 ? `${Math.round(n)} B` : `${n.toFixed(2)} ${units[i]}`;
}

/** Fills `{key}` fields of a template from `fields`; `{NL}` is a newline, `{TAB}` a tab, `{{`/`}}` braces. */
export function formatTemplate(template: string, fields: Record<string, string | number | boolean | undefined>): string {
  return template.replace(/\{\{|\}\}|\{([A-Za-z_]+)\}/g, (all, key: string | undefined) => {
    if (all === '{{') return '{';
    if (all === '}}') return '}';
    if (key === 'NL') return '\n';
    if (key === 'TAB') return '\t';
    const value = fields[key!];
    return value === undefined ? '' : String(value);
  });
}

/** A JSON line for `--json` / `--json-lines` output (bigint as number or string when too big). */
export function jsonLine(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? (v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString()) : v)) + '\n';
}
