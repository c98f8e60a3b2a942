#!/usr/bin/env node
/** Build step: writes the man page generated from the command tree to the path given (dist/man/cairn.1). */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { commandTree } from './command-tree.js';
import { createMemoryIO } from './io.js';
import { manPage } from './man-page.js';
import { createProgram, EPILOG, VERSION } from './program.js';

const target = process.argv[2];
if (!target) {
  process.stderr.write('usage: write-man.js PATH\n');
  process.exit(2);
}
mkdirSync(dirname(target), { recursive: true });
writeFileSync(target, manPage(commandTree(createProgram(createMemoryIO())), VERSION, EPILOG));
