/**
 * Shell completion scripts for bash, zsh and fish, generated from the command tree
 * (`command-tree.ts`). Each script finds the command being typed by walking the words typed so far
 * (skipping the values of options that take one, global options included, since they may stand
 * anywhere), then offers that command's subcommands, its options and the global ones, or the values
 * an option or argument accepts; anything else (paths, patterns) falls back to file names.
 */
import { allCommandSpecs, type CommandSpec, type OptionSpec } from './command-tree.js';

export const SHELLS = ['bash', 'zsh', 'fish'] as const;
export type Shell = (typeof SHELLS)[number];

/** The completion script for `shell`. */
export function completionScript(tree: CommandSpec, shell: Shell): string {
  return shell === 'bash' ? bashScript(tree) : shell === 'zsh' ? zshScript(tree) : fishScript(tree);
}

const HEADER = (shell: Shell) => `# ${shell} completion for cairn, generated from its command definitions by "cairn completion ${shell}".`;

const key = (c: CommandSpec) => c.path.join(' ');
const words = (o: OptionSpec) => (o.short ? [o.short, o.long] : [o.long]);
/** The values an option or argument accepts, when known. */
const choicesOf = (x: { choices?: string[] }) => x.choices ?? [];
/** A one-line description for the menus: the first clause, at most 80 characters. */
function brief(text: string): string {
  const line = text.replace(/\s+/g, ' ').split(/; | \(/)[0]!.trim();
  return line.length > 80 ? `${line.slice(0, 77)}...` : line;
}
/** Quoted for sh/bash/zsh single quotes. */
const sq = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** Shell `case` arms mapping a command path to a word list (bash and fish share the idea). */
function bashCase(fn: string, tree: CommandSpec, list: (c: CommandSpec) => string[]): string {
  const arms = allCommandSpecs(tree).map((c) => [key(c), list(c)] as const).filter(([, l]) => l.length > 0)
    .map(([k, l]) => `    ${sq(k)}) echo ${sq(l.join(' '))} ;;`);
  return `${fn}() {\n  case "$1" in\n${arms.join('\n')}\n  esac\n}`;
}

function bashScript(tree: CommandSpec): string {
  const choiceArms = allCommandSpecs(tree).flatMap((c) => [
    ...c.options.filter((o) => choicesOf(o).length).flatMap((o) => words(o).map((w) => `    ${sq(`${key(c)}|${w}`)}) echo ${sq(choicesOf(o).join(' '))} ;;`)),
    ...c.arguments.filter((a) => choicesOf(a).length).slice(0, 1).map((a) => `    ${sq(`${key(c)}|`)}) echo ${sq(choicesOf(a).join(' '))} ;;`),
  ]);
  return `${HEADER('bash')}
# Install: echo 'source <(cairn completion bash)' >> ~/.bashrc
#      or: cairn completion bash > ~/.local/share/bash-completion/completions/cairn
${bashCase('_cairn_subcommands', tree, (c) => c.subcommands.map((s) => s.path.at(-1)!))}
${bashCase('_cairn_options', tree, (c) => c.options.flatMap(words))}
_cairn_globals() {
  echo ${sq(tree.options.filter((o) => o.long !== '--help').flatMap(words).join(' '))}
}
${bashCase('_cairn_valued', tree, (c) => c.options.filter((o) => o.value !== undefined).flatMap(words))}
_cairn_choices() {
  case "$1|$2" in
${choiceArms.join('\n')}
  esac
}
_cairn() {
  local cur=\${COMP_WORDS[COMP_CWORD]} path=cairn i w skip=0 list
  for ((i = 1; i < COMP_CWORD; i++)); do
    w=\${COMP_WORDS[i]}
    if ((skip)); then skip=0; continue; fi
    case $w in
      --*=*) ;;
      -*) [[ " $(_cairn_valued "$path") $(_cairn_valued cairn) " == *" $w "* ]] && skip=1 ;;
      *) [[ " $(_cairn_subcommands "$path") " == *" $w "* ]] && path="$path $w" ;;
    esac
  done
  COMPREPLY=()
  if ((skip)); then
    list=$(_cairn_choices "$path" "\${COMP_WORDS[COMP_CWORD-1]}")
    [[ -n $list ]] || list=$(_cairn_choices cairn "\${COMP_WORDS[COMP_CWORD-1]}")
  elif [[ $cur == -* ]]; then
    list=$(_cairn_options "$path")
    [[ $path == cairn ]] || list="$list $(_cairn_globals)"
  else
    list=$(_cairn_subcommands "$path")
    [[ -n $list ]] || list=$(_cairn_choices "$path" '')
  fi
  # Nothing to offer (a path, a pattern, an archive name): bash completes file names (-o default).
  [[ -n $list ]] && mapfile -t COMPREPLY < <(compgen -W "$list" -- "$cur")
  return 0
}
complete -o default -F _cairn cairn
`;
}

/** A zsh `_arguments` spec for each form of the option. */
function zshOption(o: OptionSpec): string[] {
  const description = brief(o.description).replace(/[[\]]/g, (b) => `\\${b}`);
  const action = o.value === undefined ? '' : `:${o.value}:${choicesOf(o).length ? `(${choicesOf(o).join(' ')})` : '_files'}`;
  return words(o).map((w) => sq(`${w}[${description}]${action}`));
}

const zshName = (c: CommandSpec) => `_${c.path.join('_').replace(/-/g, '_')}`;

function zshFunction(c: CommandSpec, globals: OptionSpec[]): string {
  const options = [...c.options, ...(c.path.length > 1 ? globals.filter((g) => !c.options.some((o) => o.long === g.long)) : [])].flatMap(zshOption);
  if (c.subcommands.length > 0) {
    const items = c.subcommands.map((s) => sq(`${s.path.at(-1)!.replace(/:/g, '\\:')}:${brief(s.description)}`));
    return `${zshName(c)}() {
  local curcontext=$curcontext state line ret=1
  local -a commands=(
    ${items.join('\n    ')}
  )
  _arguments -C \\
    ${options.join(' \\\n    ')} \\
    ': :->command' '*:: :->args' && return 0
  case $state in
    command) _describe -t commands 'cairn command' commands ;;
    args)
      local fn=${zshName(c)}_\${words[1]//-/_}
      if (( $+functions[$fn] )); then $fn; else _files; fi ;;
  esac
}`;
  }
  const positional = c.arguments.length === 0 ? []
    : choicesOf(c.arguments[0]!).length ? [sq(`1:${c.arguments[0]!.name}:(${choicesOf(c.arguments[0]!).join(' ')})`)] : [sq('*:file:_files')];
  return `${zshName(c)}() {
  _arguments \\
    ${[...options, ...positional].join(' \\\n    ')}
}`;
}

function zshScript(tree: CommandSpec): string {
  const functions = allCommandSpecs(tree).map((c) => zshFunction(c, tree.options));
  return `#compdef cairn
${HEADER('zsh')}
# Install: echo 'source <(cairn completion zsh)' >> ~/.zshrc   (after compinit)
#      or: cairn completion zsh > "\${fpath[1]}/_cairn"
${functions.join('\n')}
if [[ \${zsh_eval_context[-1]} == loadautofunc ]]; then
  _cairn "$@"
else
  compdef _cairn cairn
fi
`;
}

/** Quoted for fish single quotes (where only \\ and \\' are escapes). */
const fq = (s: string) => `'${s.replace(/[\\']/g, (ch) => `\\${ch}`)}'`;

function fishCase(fn: string, tree: CommandSpec, list: (c: CommandSpec) => string[]): string {
  const arms = allCommandSpecs(tree).map((c) => [key(c), list(c)] as const).filter(([, l]) => l.length > 0)
    .map(([k, l]) => `        case ${fq(k)}\n            printf '%s\\n' ${l.map(fq).join(' ')}`);
  return `function ${fn}\n    switch "$argv[1]"\n${arms.join('\n')}\n    end\nend`;
}

function fishOption(c: CommandSpec, o: OptionSpec, global: boolean): string {
  const parts = ['complete -c cairn'];
  if (!global) parts.push(`-n ${fq(`__cairn_at ${sq(key(c))}`)}`);
  if (o.short) parts.push(`-s ${o.short.slice(1)}`);
  parts.push(`-l ${o.long.slice(2)}`);
  if (o.value !== undefined) parts.push(choicesOf(o).length ? `-x -a ${fq(choicesOf(o).join(' '))}` : '-r -F');
  parts.push(`-d ${fq(brief(o.description))}`);
  return parts.join(' ');
}

function fishScript(tree: CommandSpec): string {
  const lines: string[] = [];
  for (const c of allCommandSpecs(tree)) {
    const at = `-n ${fq(`__cairn_at ${sq(key(c))}`)}`;
    for (const s of c.subcommands) lines.push(`complete -c cairn ${at} -a ${fq(s.path.at(-1)!)} -d ${fq(brief(s.description))}`);
    for (const o of c.options) lines.push(fishOption(c, o, c === tree));
    const first = c.arguments[0];
    if (first && choicesOf(first).length) lines.push(`complete -c cairn ${at} -a ${fq(choicesOf(first).join(' '))}`);
    else if (first && c.subcommands.length === 0) lines.push(`complete -c cairn ${at} -F`);
  }
  return `${HEADER('fish')}
# Install: cairn completion fish > ~/.config/fish/completions/cairn.fish
${fishCase('__cairn_subcommands', tree, (c) => c.subcommands.map((s) => s.path.at(-1)!))}
${fishCase('__cairn_valued', tree, (c) => c.options.filter((o) => o.value !== undefined).flatMap(words))}
# The command being typed ("cairn", "cairn key"...), skipping option values.
function __cairn_path
    set -l tokens (commandline -opc)
    set -e tokens[1]
    set -l path cairn
    set -l skip 0
    for t in $tokens
        if test $skip = 1
            set skip 0
            continue
        end
        switch $t
            case '--*=*'
            case '-*'
                if contains -- $t (__cairn_valued $path) (__cairn_valued cairn)
                    set skip 1
                end
            case '*'
                if contains -- $t (__cairn_subcommands $path)
                    set path "$path $t"
                end
        end
    end
    echo $path
end
function __cairn_at
    test (__cairn_path) = "$argv[1]"
end
complete -c cairn -f
${lines.join('\n')}
`;
}
