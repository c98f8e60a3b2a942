/**
 * Splitting a command line into argv the way a POSIX shell does for words, and nothing more (as
 * Python's shlex.split, which Borg uses): blanks separate words; '…' is literal; "…" is literal
 * except for \" \\ \$ \` and a backslash-newline; a backslash outside quotes escapes the next
 * character. No expansion, globbing, redirection or operators: `;`, `|`, `&&`, `$X` stay text.
 */

/** The words of `command`, or undefined when a quote is not closed or it ends in a backslash. */
export function splitCommand(command: string): string[] | undefined {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  for (let i = 0; i < command.length; i++) {
    const c = command[i];
    if (c === ' ' || c === '\t' || c === '\n') {
      if (inWord) { words.push(word); word = ''; inWord = false; }
      continue;
    }
    inWord = true;
    if (c === '\\') {
      if (++i >= command.length) return undefined;
      if (command[i] !== '\n') word += command[i];
    } else if (c === "'") {
      const end = command.indexOf("'", i + 1);
      if (end < 0) return undefined;
      word += command.slice(i + 1, end);
      i = end;
    } else if (c === '"') {
      for (i++; ; i++) {
        if (i >= command.length) return undefined;
        const d = command[i];
        if (d === '"') break;
        if (d === '\\' && i + 1 < command.length && '"\\$`\n'.includes(command[i + 1])) {
          i++;
          if (command[i] !== '\n') word += command[i];
        } else word += d;
      }
    } else word += c;
  }
  if (inWord) words.push(word);
  return words;
}
