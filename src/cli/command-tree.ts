/**
 * The command tree of a commander program as plain data (commands, options, arguments), read from
 * the same definitions that parse the command line: the completion scripts and the man page are
 * generated from it, so a command or option added later appears in them without editing them.
 */
import type { Command, Option } from 'commander';

/** One option of a command, e.g. `-r, --repo <url>`. */
export interface OptionSpec {
  /** `-r`, when it has a short form. */
  short?: string;
  /** `--repo` (every cairn option has a long form). */
  long: string;
  /** `url` for `<url>`; undefined for a flag. */
  value?: string;
  /** The only values it accepts, when commander knows them. */
  choices?: string[];
  description: string;
  /** `-r, --repo <url>` as the help shows it. */
  flags: string;
}

/** One positional argument, e.g. `<paths...>`. */
export interface ArgumentSpec {
  name: string;
  required: boolean;
  variadic: boolean;
  choices?: string[];
  description: string;
}

/** A command and what it takes; `path` is `['cairn', 'key', 'export']`. */
export interface CommandSpec {
  path: string[];
  description: string;
  options: OptionSpec[];
  arguments: ArgumentSpec[];
  subcommands: CommandSpec[];
}

const HELP: OptionSpec = { short: '-h', long: '--help', description: 'show the help of this command', flags: '-h, --help' };

/**
 * The tree below `program`. Every command also takes `-h, --help`; the program gets commander's
 * `help [command]` command, whose argument is one of the top-level commands.
 */
export function commandTree(program: Command): CommandSpec {
  const spec = commandSpec(program, []);
  spec.subcommands.push({
    path: [...spec.path, 'help'], description: 'show the help of a command', options: [HELP], subcommands: [],
    arguments: [{ name: 'command', required: false, variadic: false, choices: spec.subcommands.map((c) => c.path.at(-1)!), description: 'the command' }],
  });
  return spec;
}

function commandSpec(command: Command, parent: string[]): CommandSpec {
  const path = [...parent, command.name()];
  return {
    path,
    description: command.description(),
    options: [...command.options.filter((o) => !o.hidden).map(optionSpec), HELP],
    arguments: command.registeredArguments.map((a) => ({
      name: a.name(), required: a.required, variadic: a.variadic, choices: a.argChoices, description: a.description,
    })),
    subcommands: command.commands.map((c) => commandSpec(c, path)),
  };
}

function optionSpec(option: Option): OptionSpec {
  const value = /[<[]([^>\]]+)[>\]]/.exec(option.flags)?.[1];
  return { short: option.short, long: option.long!, value, choices: option.argChoices, description: option.description, flags: option.flags };
}

/** Every command of the tree, depth first, the root first. */
export function allCommandSpecs(tree: CommandSpec): CommandSpec[] {
  return [tree, ...tree.subcommands.flatMap(allCommandSpecs)];
}
