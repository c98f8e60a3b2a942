#!/usr/bin/env -S node --max-semi-space-size=8
/**
 * The `cairn` executable: runs the command line of this process and sets its exit code.
 *
 * The first line gives Node a young generation of 8 MiB semi-spaces on the main thread (the pipeline workers get
 * theirs from `WORKER_YOUNG_GENERATION_MB`). Node 24's default lets it grow far larger, mostly garbage between
 * scavenges: an unchanged backup of 28 k files peaked at 306 MiB with the default, 156 MiB with this, in the
 * same time (docs/performance.md "Memory"). V8 reads the flag only when the process starts, hence the first line
 * (`env -S` splits it: GNU coreutils 8.30+, macOS, FreeBSD; README "Installing the command"). The tests and benchmarks run the
 * executable with the flags read from this line (test/helpers/node-flags.ts).
 */
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
