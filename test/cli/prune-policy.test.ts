// Table tests of the prune policy against Borg's documented behaviour (borg's prune_split tests
// and docs/misc/prune-example.txt), plus keep-within, checkpoints and rule validation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyPrunePolicy, parseInterval, PruneRulesError, type PruneRules } from '../../src/archive/prune-policy.js';

interface A { name: string; time: Date; checkpoint?: boolean }
const at = (name: string, iso: string, checkpoint = false): A => ({ name, time: new Date(iso), checkpoint });

// Borg's own prune_split fixture: archives years, months, days, minutes and seconds apart (UTC).
const borgFixture: A[] = [
  at('1', '2015-01-01T10:00:00Z'), at('2', '2016-01-01T10:00:00Z'), at('3', '2017-01-01T10:00:00Z'),
  at('4', '2017-02-01T10:00:00Z'), at('5', '2017-03-01T10:00:00Z'),
  at('6', '2017-03-02T10:00:00Z'), at('7', '2017-03-03T10:00:00Z'), at('8', '2017-03-04T10:00:00Z'),
  at('9', '2017-10-01T09:45:00Z'), at('10', '2017-10-01T09:55:00Z'),
  at('11', '2017-10-01T10:00:01Z'), at('12', '2017-10-01T10:00:03Z'), at('13', '2017-10-01T10:00:05Z'),
];

const kept = (archives: A[], rules: PruneRules, now?: Date): string[] =>
  applyPrunePolicy(archives, rules, { utc: true, now }).keep.map((k) => k.archive.name);

const splitTable: Array<[PruneRules, string[]]> = [
  [{ yearly: 3 }, ['13', '2', '1']],
  [{ monthly: 3 }, ['13', '8', '4']],
  [{ weekly: 2 }, ['13', '8']],
  [{ daily: 3 }, ['13', '8', '7']],
  [{ hourly: 3 }, ['13', '10', '8']],
  [{ minutely: 3 }, ['13', '10', '9']],
  [{ secondly: 4 }, ['13', '12', '11', '10']],
  [{ last: 4 }, ['13', '12', '11', '10']],
  [{ daily: 0 }, []],
];

for (const [rules, expected] of splitTable) {
  test(`prune split ${JSON.stringify(rules)} keeps ${expected.join(',') || 'nothing'} (borg's table)`, () => {
    assert.deepEqual(kept(borgFixture, rules), expected);
  });
}

test("borg's visualized example: daily 14, monthly 6, yearly 1 over 2015 without 2015-12-19", () => {
  const archives: A[] = [];
  for (let t = Date.UTC(2015, 0, 1, 12); t < Date.UTC(2016, 0, 1); t += 86400000) {
    const day = new Date(t).toISOString().slice(0, 10);
    if (day !== '2015-12-19') archives.push(at(day, new Date(t).toISOString()));
  }
  const decision = applyPrunePolicy(archives, { daily: 14, monthly: 6, yearly: 1 }, { utc: true });
  const byRule = (rule: string) => decision.keep.filter((k) => k.rule === rule).map((k) => k.archive.name);
  assert.deepEqual(byRule('daily'), ['2015-12-31', '2015-12-30', '2015-12-29', '2015-12-28', '2015-12-27', '2015-12-26', '2015-12-25',
    '2015-12-24', '2015-12-23', '2015-12-22', '2015-12-21', '2015-12-20', '2015-12-18', '2015-12-17']);
  assert.deepEqual(byRule('monthly'), ['2015-11-30', '2015-10-31', '2015-09-30', '2015-08-31', '2015-07-31', '2015-06-30']);
  assert.deepEqual(byRule('yearly[oldest]'), ['2015-01-01']);
  assert.equal(decision.keep.length + decision.prune.length, archives.length);
  assert.equal(decision.prune.length, archives.length - 21);
});

test('weekly uses ISO weeks: 2021-01-03 (Sunday) is in week 53 of 2020, with 2020-12-28', () => {
  const archives = [at('a', '2020-12-28T08:00:00Z'), at('b', '2021-01-03T08:00:00Z'), at('c', '2021-01-04T08:00:00Z')];
  assert.deepEqual(kept(archives, { weekly: -1 }), ['c', 'b']);
});

test('a count of -1 keeps the newest archive of every period', () => {
  assert.deepEqual(kept(borgFixture, { yearly: -1 }), ['13', '2', '1']);
  assert.deepEqual(kept(borgFixture, { monthly: -1 }), ['13', '8', '4', '3', '2', '1']);
});

test('keep-within keeps everything newer than now minus the interval and runs first', () => {
  const now = new Date('2017-10-01T10:00:06Z');
  const decision = applyPrunePolicy(borgFixture, { within: '10M', last: 1 }, { utc: true, now });
  assert.deepEqual(decision.keep.map((k) => [k.archive.name, k.rule]), [['13', 'within'], ['12', 'within'], ['11', 'within'], ['10', 'within'], ['9', 'secondly']]);
});

test('rules combine without double counting: daily then weekly start after the kept periods', () => {
  assert.deepEqual(kept(borgFixture, { daily: 1, weekly: 1 }), ['13', '8']);
  assert.deepEqual(kept(borgFixture, { last: 2, daily: 2 }), ['13', '12', '8', '7']);
});

test('checkpoints never count and are pruned, except the newest when nothing complete is newer', () => {
  const archives = [at('old', '2020-01-01T00:00:00Z'), at('cp1', '2020-01-02T00:00:00Z', true), at('new', '2020-01-03T00:00:00Z'), at('cp2', '2020-01-04T00:00:00Z', true)];
  const decision = applyPrunePolicy(archives, { last: 1 }, { utc: true });
  assert.deepEqual(decision.keep.map((k) => [k.archive.name, k.rule]), [['cp2', 'checkpoint'], ['new', 'secondly']]);
  assert.deepEqual(decision.prune.map((a) => a.name), ['cp1', 'old']);
});

test('no rule, a bad count or a bad interval is refused with a typed error', () => {
  for (const rules of [{}, { daily: -2 }, { within: '3x' }, { within: '0d' }] as PruneRules[]) {
    assert.throws(() => applyPrunePolicy(borgFixture, rules, { now: new Date() }), (e: unknown) => e instanceof PruneRulesError && e.code === 'EPRUNE_RULES');
  }
});

test('intervals: S M H d w m y', () => {
  assert.deepEqual(['1S', '2M', '3H', '1d', '1w', '1m', '1y'].map(parseInterval), [1000, 120000, 3 * 3600000, 86400000, 7 * 86400000, 31 * 86400000, 365 * 86400000]);
});
