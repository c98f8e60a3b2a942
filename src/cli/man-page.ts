/**
 * The `cairn(1)` man page in roff (man macros), generated from the command tree (`command-tree.ts`)
 * and the help's epilog, so every command and option of the program is in it. The build writes it
 * to dist/man/cairn.1 (`write-man.ts`), which package.json's "man" field installs.
 */
import { allCommandSpecs, type ArgumentSpec, type CommandSpec, type OptionSpec } from './command-tree.js';

/** Text escaped for roff: backslashes, hyphens (so they stay minus signs), and a leading `.` or `'`. */
function roff(text: string): string {
  return text.replace(/\\/g, '\\e').replace(/-/g, '\\-').replace(/^([.'])/gm, '\\&$1');
}

function usage(c: CommandSpec): string {
  const args = c.arguments.map((a: ArgumentSpec) => {
    const name = `${a.name.toUpperCase()}${a.variadic ? '...' : ''}`;
    return a.required ? `\\fI${roff(name)}\\fR` : `[\\fI${roff(name)}\\fR]`;
  });
  const parts = [`\\fB${roff(c.path.join(' '))}\\fR`];
  if (c.options.length > 1) parts.push('[\\fIOPTIONS\\fR]');
  if (c.subcommands.length > 0) parts.push('\\fICOMMAND\\fR');
  return [...parts, ...args].join(' ');
}

function optionItem(o: OptionSpec): string {
  const flags = roff(o.flags).replace(/<([^>]+)>/g, '\\fI$1\\fR').replace(/\[([^\]]+)\]/g, '[\\fI$1\\fR]');
  return `.TP\n\\fB${flags.replace(/ \\fI/g, '\\fR \\fI')}\\fR\n${roff(o.description)}`;
}

function commandSection(c: CommandSpec): string {
  const lines = [`.SS "${roff(c.path.slice(1).join(' '))}"`, usage(c), '.br', roff(c.description)];
  for (const a of c.arguments) lines.push(`.TP\n\\fI${roff(a.name.toUpperCase())}\\fR\n${roff(a.description)}${a.choices ? ` (${roff(a.choices.join(', '))})` : ''}`);
  for (const o of c.options) if (o.long !== '--help') lines.push(optionItem(o));
  return lines.join('\n');
}

/** The whole page; `epilog` is the help's closing text (environment, exit codes...), kept as written. */
export function manPage(tree: CommandSpec, version: string, epilog: string): string {
  const commands = allCommandSpecs(tree).slice(1);
  return [
    `.TH CAIRN 1 "" "cairn ${roff(version)}" "User Commands"`,
    '.SH NAME',
    `cairn \\- ${roff(tree.description)}`,
    '.SH SYNOPSIS',
    `\\fBcairn\\fR [\\fB\\-r\\fR \\fIREPO\\fR] [\\fIGLOBAL OPTIONS\\fR] \\fICOMMAND\\fR [\\fIOPTIONS\\fR] [\\fIARGUMENTS\\fR]`,
    '.SH DESCRIPTION',
    'Global options may stand before or after the command. Every command prints its own help with',
    '\\fBcairn help\\fR \\fICOMMAND\\fR or \\fBcairn\\fR \\fICOMMAND\\fR \\fB\\-\\-help\\fR; docs/cli.md in the package has the full reference.',
    '.SH GLOBAL OPTIONS',
    ...tree.options.map(optionItem),
    '.SH COMMANDS',
    ...commands.map(commandSection),
    '.SH NOTES',
    '.nf',
    roff(epilog.replace(/^\n+/, '')),
    '.fi',
    '.SH SEE ALSO',
    '\\fBborg\\fR(1), \\fBrestic\\fR(1)',
    '',
  ].join('\n');
}
