/**
 * Getting the passphrase: CAIRN_PASSPHRASE, else CAIRN_PASSCOMMAND's first output line, else a
 * no-echo terminal prompt. The command is split into words as a POSIX shell would (quotes and
 * backslashes) but run without a shell, as Borg and restic do: `;`, `|`, `$VAR` and the like are
 * passed to the program as plain text.
 */
import { execFile } from 'node:child_process';
import { PassphraseUnavailableError } from '../errors.js';
import { splitCommand } from './split-command.js';

/** A terminal input as process.stdin is one; tests pass a fake. */
export interface PromptInput {
  isTTY?: boolean;
  setRawMode?(mode: boolean): unknown;
  on(event: 'data', listener: (chunk: Buffer | string) => void): unknown;
  removeListener(event: 'data', listener: (chunk: Buffer | string) => void): unknown;
  resume(): unknown;
  pause(): unknown;
}

export interface ReadPassphraseOptions {
  env?: NodeJS.ProcessEnv;
  /** Prompt text shown on the terminal (default "Enter passphrase: "). */
  prompt?: string;
  /** Ask twice and insist on the same answer (for new keys and change-passphrase). */
  confirm?: boolean;
  input?: PromptInput;
  output?: { write(text: string): unknown };
  /** Time limit for CAIRN_PASSCOMMAND, in ms (default 60 000). */
  commandTimeoutMs?: number;
  /**
   * The environment variables to read instead of CAIRN_PASSPHRASE and CAIRN_PASSCOMMAND: `transfer` and
   * `rcreate --other-repo` read the other repository's passphrase from CAIRN_OTHER_PASSPHRASE / CAIRN_OTHER_PASSCOMMAND.
   */
  variables?: { passphrase: string; command: string };
}

/**
 * Resolves to the passphrase; PassphraseUnavailableError (code 'EPASSPHRASE_UNAVAILABLE') when none
 * can be had, or when the one found is empty (no key mode that asks for a passphrase accepts one).
 */
export async function readPassphrase(options: ReadPassphraseOptions = {}): Promise<string> {
  const env = options.env ?? process.env;
  const { passphrase: PASS, command: COMMAND } = options.variables ?? { passphrase: 'CAIRN_PASSPHRASE', command: 'CAIRN_PASSCOMMAND' };
  const given = env[PASS];
  if (given !== undefined) return nonEmpty(given, `${PASS} is set but empty: set it to the passphrase`);
  const command = env[COMMAND];
  if (command) {
    const line = await runPassCommand(command, COMMAND, env, options.commandTimeoutMs ?? 60_000);
    return nonEmpty(line, `${COMMAND} printed an empty first line: make it print the passphrase`);
  }
  const input = options.input ?? process.stdin;
  const output = options.output ?? process.stderr;
  if (!input.isTTY || !input.setRawMode) throw new PassphraseUnavailableError(`set ${PASS} or ${COMMAND}, or run on a terminal`);
  const prompt = options.prompt ?? 'Enter passphrase: ';
  const first = nonEmpty(await promptNoEcho(input, output, prompt), 'an empty passphrase was entered: type the passphrase');
  if (!options.confirm) return first;
  const second = await promptNoEcho(input, output, 'Enter the same passphrase again: ');
  if (first !== second) throw new PassphraseUnavailableError('the two passphrases differ: type the same one twice');
  return first;
}

function nonEmpty(passphrase: string, why: string): string {
  if (passphrase === '') throw new PassphraseUnavailableError(why);
  return passphrase;
}

function runPassCommand(command: string, variable: string, env: NodeJS.ProcessEnv, timeout: number): Promise<string> {
  const argv = splitCommand(command);
  if (argv === undefined) return Promise.reject(new PassphraseUnavailableError(`${variable} has an unterminated quote or a trailing backslash: fix its quoting`));
  if (argv.length === 0) return Promise.reject(new PassphraseUnavailableError(`${variable} names no command: set it to a command that prints the passphrase`));
  return new Promise((resolve, reject) => {
    execFile(argv[0], argv.slice(1), { env, timeout, encoding: 'utf8', maxBuffer: 64 * 1024, shell: false }, (err, stdout) => {
      // The command's output may hold the secret, so neither it nor stderr goes into the error.
      if (!err) return resolve(stdout.split(/\r?\n/)[0]);
      const how = err.code === 'ENOENT' ? `"${argv[0]}" was not found` : err.killed ? `timed out after ${timeout} ms` : `exit ${String(err.code ?? err.signal ?? 'error')}`;
      reject(new PassphraseUnavailableError(`${variable} failed (${how}): run it by hand to see why (it runs without a shell: use sh -c '…' for pipes)`));
    });
  });
}

function promptNoEcho(input: PromptInput, output: { write(text: string): unknown }, prompt: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    output.write(prompt);
    input.setRawMode?.(true);
    input.resume();
    const done = (err?: Error): void => {
      input.removeListener('data', onData);
      input.setRawMode?.(false);
      input.pause();
      output.write('\n');
      if (err) reject(err);
      else resolve(text);
    };
    const onData = (chunk: Buffer | string): void => {
      for (const ch of String(chunk)) {
        if (ch === '\r' || ch === '\n') return done();
        if (ch === '\u0003' || (ch === '\u0004' && text === '')) return done(new PassphraseUnavailableError('cancelled at the prompt'));
        if (ch === '\u007f' || ch === '\b') text = text.slice(0, -1);
        else if (ch >= ' ') text += ch;
      }
    };
    input.on('data', onData);
  });
}
