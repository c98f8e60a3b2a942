/**
 * SIGINT and SIGTERM for the `cairn` process: the first one asks the running command to stop
 * cleanly (checkpoint, lock released, terminal restored) through an `Interrupt`; a second one, or
 * one arriving while no command holds the interrupt, ends the process at once (terminal restored).
 */
import { restoreTerminal } from './progress.js';

/** Exit codes of an interrupted run, as shells report a process killed by the signal (128 + n). */
export const SIGNAL_EXIT: Record<string, number> = { SIGINT: 130, SIGTERM: 143 };

/** What a command sees of the signals: `signal` is aborted with the signal's name as reason. */
export interface Interrupt {
  readonly signal: AbortSignal;
  /** Declares that a command will stop cleanly on the signal; call the returned function when done. */
  hold(): () => void;
}

/** Installs the handlers for this process and returns its `Interrupt`. */
export function watchSignals(): Interrupt {
  const controller = new AbortController();
  let holders = 0;
  const onSignal = (name: NodeJS.Signals): void => {
    if (controller.signal.aborted || holders === 0) {
      restoreTerminal();
      process.stderr.write(`cairn: stopped by ${name}${holders > 0 ? ' (second signal): the repository lock may stay until it expires or the next cairn on this host removes it' : ''}\n`);
      process.exit(SIGNAL_EXIT[name] ?? 2);
    }
    controller.abort(name);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal: controller.signal,
    hold() {
      holders += 1;
      let done = false;
      return () => { if (!done) { done = true; holders -= 1; } };
    },
  };
}
