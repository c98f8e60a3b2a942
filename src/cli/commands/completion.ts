/** `cairn completion bash|zsh|fish`: print the shell completion script, generated from the command tree. */
import { Argument, type Command } from 'commander';
import type { CliIO } from '../io.js';
import { commandTree } from '../command-tree.js';
import { completionScript, SHELLS, type Shell } from '../completion.js';

/** The root of `command`'s tree: the completion covers the whole program, not the command itself. */
function rootOf(command: Command): Command {
  let c = command;
  while (c.parent) c = c.parent;
  return c;
}

export function registerCompletion(program: Command, io: CliIO): void {
  program.command('completion')
    .description('print the shell completion script for bash, zsh or fish (see docs/cli.md for where to install it)')
    .addArgument(new Argument('<shell>', 'the shell: bash, zsh or fish').choices(SHELLS))
    .addHelpText('after', `
Install:
  bash: echo 'source <(cairn completion bash)' >> ~/.bashrc
        (or cairn completion bash > ~/.local/share/bash-completion/completions/cairn)
  zsh:  echo 'source <(cairn completion zsh)' >> ~/.zshrc   (after compinit)
        (or cairn completion zsh > "\${fpath[1]}/_cairn")
  fish: cairn completion fish > ~/.config/fish/completions/cairn.fish`)
    .action((shell: Shell, _opts: unknown, cmd: Command) => {
      io.out(completionScript(commandTree(rootOf(cmd)), shell));
    });
}
