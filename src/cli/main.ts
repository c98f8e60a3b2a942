#!/usr/bin/env node
/** The `cairn` executable: runs the command line of this process and sets its exit code. */
import { createProcessIO } from './io.js';
import { runMain } from './run.js';
import { watchSignals } from './signals.js';

const interrupt = watchSignals();
const code = await runMain(process.argv.slice(2), createProcessIO(interrupt));
// Interrupted: the command has cleaned up; work it abandoned (a non-cooperating command) must not keep the process alive.
if (interrupt.signal.aborted) process.exit(code);
process.exitCode = code;
