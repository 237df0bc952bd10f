import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRng, shuffled } from '../adapters/rng.ts';

test('same seed gives the same stream; forks are independent of each other', () => {
  const a = createRng(7), b = createRng(7);
  const xs = Array.from({ length: 5 }, () => a.uniform());
  assert.deepEqual(xs, Array.from({ length: 5 }, () => b.uniform()));
  assert.notEqual(createRng(7).fork('x').uniform(), createRng(7).fork('y').uniform());
  assert.notDeepEqual(shuffled([1, 2, 3, 4, 5, 6, 7, 8], createRng(1)), [1, 2, 3, 4, 5, 6, 7, 8]);
});

test('normal draws have mean 0 and variance 1', () => {
  const rng = createRng(3);
  const n = 200_000;
  let s = 0, s2 = 0;
  for (let i = 0; i < n; i++) { const x = rng.normal(); s += x; s2 += x * x; }
  assert.ok(Math.abs(s / n) < 0.01, `mean ${s / n}`);
  assert.ok(Math.abs(s2 / n - 1) < 0.02, `variance ${s2 / n}`);
});
