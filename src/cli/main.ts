#!/usr/bin/env node
/** The `cairn` executable: runs the command line of this process and sets its exit code. */
import { createProcessIO } from './io.js';
import { runMain } from './run.js';
import { watchSignals } from './signals.js';

// The AWS SDK prints an eight-line notice on Node < 22 at the first S3 request; cairn's stderr is one
// line per error or warning (ADR 0045), and the supported runtimes are cairn's decision (docs/adr/0001).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const interrupt = watchSignals();
const code = await runMain(process.argv.slice(2), createProcessIO(interrupt));
// Interrupted: the command has cleaned up; work it abandoned (a non-cooperating command) must not keep the process alive.
if (interrupt.signal.aborted) process.exit(code);
process.exitCode = code;
