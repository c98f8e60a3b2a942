/**
 * The one conformance suite every backend must pass: `conformanceSuite(name, make)` registers
 * node:test tests that check each rule of the Backend contract (docs/backend-contract.md).
 * A backend's own test file builds `make` and calls this; nothing here is backend-specific.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Backend } from '../../src/store/backend.js';
import { registerObjectCases } from './cases-objects.js';
import { registerListCases } from './cases-list.js';
import { registerKeyCases } from './cases-keys.js';
import { registerConcurrencyCases } from './cases-concurrency.js';
import { registerLifecycleCases } from './cases-lifecycle.js';
import { registerSelected } from './helpers.js';

export interface ConformanceOptions {
  /** Size of the large round-trip value; default 64 MiB. Smaller only where a server cannot take it. */
  largeBytes?: number;
  /**
   * The store folds case (a FAT or exFAT disk): the two cases whose keys differ only in case are
   * skipped, saying why. cairn's own keys are lower-case; docs/backends/fs.md says so.
   */
  caseInsensitive?: boolean;
  /**
   * How coarse the store's modification times are, in ms; default 1000 (whole seconds, S3's
   * Last-Modified). FAT keeps even seconds: 2000.
   */
  timeResolutionMs?: number;
  /**
   * How many keys the long listing case writes; default 1 530, over one page of S3 or GCS at their
   * real page size (1 000). A backend whose test setup pages its listings at N keys needs only a
   * little over 3 N to cross several pages: that keeps the case's thousands of requests out of the
   * slow emulators.
   */
  listKeys?: number;
  /**
   * For a second run of the suite under a server mode or file system that changes only some
   * backend calls (test/backends/sftp-extensions.test.ts, fs-no-hardlinks.test.ts): `only` keeps
   * just the cases whose title contains one of its strings, `except` leaves out those whose title
   * contains one of its strings (default: every case). The caller says which calls the mode
   * changes and why the cases it keeps are those; the whole suite still runs on the backend's
   * ordinary setup. A string that matches no case fails the run, so a renamed case cannot drop
   * in or out unseen.
   */
  only?: readonly string[];
  except?: readonly string[];
}

export const DEFAULT_LARGE_BYTES = 64 * 1024 * 1024;

/**
 * Registers the conformance tests for backend `name`. `make(root)` must return a NEW client for
 * the store called `root` (a unique `[a-z0-9-]+` name generated per test); several clients for
 * one root must see the same objects. The suite calls `create()` first, `destroy()` and
 * `close()` after every test.
 */
export function conformanceSuite(
  name: string,
  make: (root: string) => Promise<Backend>,
  options: ConformanceOptions = {},
): void {
  const settings = {
    largeBytes: options.largeBytes ?? DEFAULT_LARGE_BYTES, caseInsensitive: options.caseInsensitive ?? false, timeResolutionMs: options.timeResolutionMs ?? 1000,
    listKeys: options.listKeys ?? 1_530,
  };
  const { only, except } = options;
  const matched = new Set<string>();
  const hits = (parts: readonly string[] | undefined, title: string) => {
    const found = (parts ?? []).filter((part) => title.includes(part));
    for (const part of found) matched.add(part);
    return found.length > 0;
  };
  const keep = only || except ? (title: string) => (!only || hits(only, title)) && !hits(except, title) : undefined;
  describe(`conformance: ${name}`, () => {
    registerSelected(keep, () => {
      registerObjectCases(make, settings);
      registerListCases(make, settings);
      registerKeyCases(make, settings);
      registerConcurrencyCases(make, settings);
      registerLifecycleCases(make);
    });
    if (keep) {
      const named = [...(only ?? []), ...(except ?? [])];
      test('every case named by only/except exists', () => assert.deepEqual(named.filter((part) => !matched.has(part)), [], 'names that match no case'));
    }
  });
}
