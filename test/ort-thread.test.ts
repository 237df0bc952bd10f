/**
 * Backbone runs happen in the ONNX runtime thread, not on the event loop: a timer keeps firing
 * while one large ORT run embeds 256 paragraphs; a run that fails rejects only itself; a runtime
 * thread that dies fails the calls in flight with a clear error and the next call works again.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ortHost, runSession, createSession, releaseSession } from '../backbone/ort.ts';
import { loadTextEncoder, type UseLiteEncoder } from '../backbone/use-lite.ts';

const MODELS_DIR = join(import.meta.dirname, '..', 'models');
const WORDS = 'the river market engine quiet garden letter winter council morning stone painted harbour ticket'.split(' ');

/** `n` distinct paragraphs of ~400 characters (each fills the model's token limit). */
function paragraphs(n: number): string[] {
  return Array.from({ length: n }, (_, i) => Array.from({ length: 60 }, (_, w) => WORDS[(i * 7 + w * w + i * w) % WORDS.length]).join(' ') + ` ${i}.`);
}

/** Runs `work` while a 5 ms interval timer records the longest gap between its ticks. */
async function longestTimerGap<T>(work: () => Promise<T>): Promise<{ gapMs: number; workMs: number; value: T }> {
  let last = performance.now(), gapMs = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    gapMs = Math.max(gapMs, now - last);
    last = now;
  }, 5);
  const started = performance.now();
  try {
    const value = await work();
    return { gapMs: Math.max(gapMs, performance.now() - last), workMs: performance.now() - started, value };
  } finally {
    clearInterval(timer);
  }
}

describe('ONNX runtime thread', () => {
  let encoder: UseLiteEncoder;
  before(async () => {
    // One ORT run for the whole batch: on the event loop, the timer would stall for all of it.
    encoder = await loadTextEncoder(MODELS_DIR, { batchSize: 256, maxBatchTokens: 1e9 });
  });
  after(() => encoder.dispose());

  it('keeps the event loop free while a large batch is embedded', async () => {
    const texts = paragraphs(256);
    const { gapMs, workMs, value } = await longestTimerGap(() => encoder.embedFeatures(texts));
    assert.equal(value.length, 256);
    // Blocking, the gap would be the run itself (>= workMs less tokenising, ~1 s or more here).
    assert.ok(workMs > 200, `the batch took ${workMs.toFixed(0)} ms: too short to tell a blocked loop from a free one`);
    assert.ok(gapMs < workMs / 4, `timer gap ${gapMs.toFixed(0)} ms during a ${workMs.toFixed(0)} ms embedding`);
  });

  it('gives the same features as before the move (same batch twice, deterministic)', async () => {
    const texts = paragraphs(3);
    const [a, b] = [await encoder.embedFeatures(texts), await encoder.embedFeatures(texts)];
    assert.deepEqual(a, b);
    assert.equal(a[0].length, encoder.featureDim);
  });

  it('rejects a failing run without affecting the next one', async () => {
    const session = await createSession(join(MODELS_DIR, 'use-lite.onnx'));
    try {
      const wrongType = { [session.inputNames[0]]: { data: new Int32Array([1, 2, 3]), dims: [1, 3] } }; // model wants int64
      await assert.rejects(runSession(session, wrongType, [session.outputNames[0]]), /int32|type|tensor/i);
      const ok = await runSession(session, { [session.inputNames[0]]: { data: new BigInt64Array([1n, 2n, 3n]), dims: [1, 3] } }, [session.outputNames[0]]);
      assert.equal(ok[session.outputNames[0]].dims[0], 1);
    } finally {
      await releaseSession(session);
    }
  });

  it('moves the feed buffers to the thread instead of copying them', async () => {
    const session = await createSession(join(MODELS_DIR, 'use-lite.onnx'));
    try {
      const ids = new BigInt64Array([5n, 6n, 7n]);
      await runSession(session, { [session.inputNames[0]]: { data: ids, dims: [1, 3] } }, [session.outputNames[0]]);
      assert.equal(ids.length, 0, 'the feed array is detached once it has been sent');
    } finally {
      await releaseSession(session);
    }
  });

  it('fails calls in flight when the thread dies, then restarts it and reloads the session', async () => {
    const before = await encoder.embedFeatures(paragraphs(2));
    const lost = (err: Error & { code?: string }) => {
      assert.match(err.message, /runtime thread stopped \(exited with code 0\) before this call completed; retry/);
      assert.equal(err.code, 'SERVICE_UNAVAILABLE', 'answered 503 by the server');
      return true;
    };
    // A long run, then one queued behind it. The thread stops between runs: the queued call is
    // lost; the long one completes if its run had started, else it is lost the same way.
    const first = encoder.embedFeatures(paragraphs(256));
    await new Promise((r) => setTimeout(r, 50));
    const queued = assert.rejects(encoder.embedFeatures(paragraphs(4)), lost);
    await ortHost.stop();
    await queued;
    await first.then((rows) => assert.equal(rows.length, 256), (err: Error) => assert.ok(lost(err)));
    assert.deepEqual(await encoder.embedFeatures(paragraphs(2)), before, 'a new thread, the session loaded again');
  });
});
