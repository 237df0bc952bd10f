/**
 * The batcher answers a batch over several turns of the event loop, at most INPUTS_PER_TURN
 * inputs a turn, so one large batch cannot hold the loop (and /healthz) for all its responses;
 * the frozen layer's W·x + b for new rows is computed a few rows a turn before the heads run.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sharedRowCache } from '../adapters/row-cache.ts';
import { mobileNetLayers } from '../backbone/mobilenet-v2.ts';
import { INPUTS_PER_TURN, precomputeBaseRows, splitTurns } from '../service/predict-batcher.ts';

const total = (turn: readonly number[]): number => turn.reduce((s, n) => s + n, 0);

describe('splitTurns', () => {
  it('answers a full batch of one-input requests in turns of at most INPUTS_PER_TURN inputs', () => {
    const requests = Array.from({ length: 256 }, () => 1);
    const turns = splitTurns(requests, (n) => n, INPUTS_PER_TURN);
    assert.equal(turns.length, Math.ceil(256 / INPUTS_PER_TURN));
    for (const turn of turns) assert.ok(total(turn) <= INPUTS_PER_TURN, `a turn of ${total(turn)} inputs`);
  });

  it('keeps every request once, in order, filling each turn before starting the next', () => {
    const sizes = [5, 20, 7, 1, 30, 2, 2, 31, 1];
    const turns = splitTurns(sizes, (n) => n, 32);
    assert.deepEqual(turns.flat(), sizes);
    assert.deepEqual(turns, [[5, 20, 7], [1, 30], [2, 2], [31, 1]]);
  });

  it('gives a request larger than the bound a turn of its own', () => {
    assert.deepEqual(splitTurns([10, 10, 256, 10], (n) => n, 32), [[10, 10], [256], [10]]);
  });

  it('has no turns for no requests', () => {
    assert.deepEqual(splitTurns([], (n: number) => n, 32), []);
  });
});

describe('precomputeBaseRows', () => {
  // The image backbone's adapted layer (1280 x 1280), real weights; rows like pooled features.
  const layer = mobileNetLayers().identity;
  const rows = Array.from({ length: 64 }, (_, r) => Float32Array.from({ length: layer.inDim }, (_, i) => Math.sin(r * 31 + i)));

  it('memoises every row, in turns much shorter than the whole computation', async () => {
    let last = performance.now(), gap = 0;
    const timer = setInterval(() => { const now = performance.now(); gap = Math.max(gap, now - last); last = now; }, 1);
    const started = performance.now();
    await precomputeBaseRows(layer, rows);
    const took = performance.now() - started;
    gap = Math.max(gap, performance.now() - last); // a stall that lasted to the end
    clearInterval(timer);
    const cache = sharedRowCache(layer);
    for (const row of rows) assert.ok(cache.has(row), 'each row is memoised for the heads');
    assert.deepEqual(Array.from(cache.base(rows[3]).slice(0, 4)), Array.from(rows[3].slice(0, 4)), 'identity layer: W·x + 0 = x');
    // 64 rows of 1280 x 1280 done in one turn would stall the timer for all of it.
    assert.ok(took > 20, `took ${took.toFixed(0)} ms: too short to tell`);
    assert.ok(gap < took / 3, `longest timer gap ${gap.toFixed(1)} ms of ${took.toFixed(0)} ms`);
  });

  it('gives up no turn for rows already memoised', async () => {
    let turns = 0;
    const timer = setImmediate(() => { turns++; });
    await precomputeBaseRows(layer, rows); // all memoised by the test above
    clearImmediate(timer);
    assert.equal(turns, 0);
  });
});
