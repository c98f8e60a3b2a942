#!/usr/bin/env node
/** The `cairn` executable: runs the command line of this process and sets its exit code. */
import { createProcessIO } from './io.js';
import { runMain } from './run.js';

process.exitCode = await runMain(process.argv.slice(2), createProcessIO());
