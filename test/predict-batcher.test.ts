/**
 * The batcher answers a batch over several turns of the event loop, at most INPUTS_PER_TURN
 * inputs a turn, so one large batch cannot hold the loop (and /healthz) for all its responses.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { INPUTS_PER_TURN, splitTurns } from '../service/predict-batcher.ts';

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
