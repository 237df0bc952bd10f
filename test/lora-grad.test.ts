import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createRng, type Rng } from '../adapters/rng.ts';
import {
  backwardLayer, deltaWeight, forwardLayer, initA0, initTheta, loraShape,
  mergeAdapter, splitTheta, unmergeAdapter, type Activation, type LayerSpec, type LoraShape,
} from '../adapters/lora.ts';
import { episodeLoss, type HeadBatch } from '../adapters/proto-head.ts';
import { cacheRows } from '../adapters/task-likelihood.ts';
import { worstFdError } from './fd-helpers.ts';

// Tolerance: relative error ≤ 1e-4 along random unit directions and the largest coordinates,
// step h = 1e-4 (θ in float32, losses in Float64, the step is the float32-representable one;
// the remaining error is the O(h²) truncation of the central difference).
const TOL = 1e-4;

function randomLayer(inDim: number, outDim: number, activation: Activation, normalize: boolean, rng: Rng): LayerSpec {
  const weight = Float32Array.from({ length: outDim * inDim }, () => rng.normal() / Math.sqrt(inDim));
  const bias = Float32Array.from({ length: outDim }, () => 0.1 * rng.normal());
  return { inDim, outDim, weight, bias, activation, normalize };
}

function randomTheta(shape: LoraShape, rng: Rng): Float32Array {
  const theta = initTheta(shape, initA0(shape, rng));
  const { B } = splitTheta(theta, shape);
  for (let i = 0; i < B.length; i++) B[i] = 0.3 * rng.normal();
  return theta;
}

function features(n: number, dim: number, rng: Rng): Float32Array {
  return Float32Array.from({ length: n * dim }, () => rng.normal());
}

/** W·x + b [n, out] of packed rows X [n, in], through the row cache adapters use. */
function baseOf(layer: LayerSpec, X: Float32Array): Float32Array {
  const rows = Array.from({ length: X.length / layer.inDim }, (_, i) => X.subarray(i * layer.inDim, (i + 1) * layer.inDim));
  return cacheRows(layer, rows).base;
}

describe('LoRA layer', () => {
  for (const activation of ['tanh', 'relu', 'identity'] as const) {
    for (const normalize of [true, false]) {
      it(`gradient matches central differences (${activation}, normalize=${normalize})`, () => {
        const rng = createRng(1);
        const layer = randomLayer(7, 6, activation, normalize, rng);
        const shape = loraShape(layer, 3, 6);
        const n = 5;
        const X = features(n, 7, rng);
        const base = baseOf(layer, X);
        const C = Float64Array.from({ length: n * 6 }, () => rng.normal());
        const loss = (t: Float32Array): number => {
          const z = forwardLayer(layer, shape, t, X, base, n).Z;
          let s = 0;
          for (let i = 0; i < z.length; i++) s += C[i] * z[i];
          return s;
        };
        const theta = randomTheta(shape, rng);
        const grad = new Float64Array(theta.length);
        backwardLayer(layer, shape, theta, X, forwardLayer(layer, shape, theta, X, base, n), C, grad);
        assert.ok(worstFdError(loss, theta, grad, { nCoords: 8 }) <= TOL);
      });
    }
  }

  it('B = 0 at init gives exactly the base model, and ΔW matches the factored forward', () => {
    const rng = createRng(2);
    const layer = randomLayer(5, 4, 'tanh', false, rng);
    const shape = loraShape(layer, 2);
    const X = features(3, 5, rng);
    const base = baseOf(layer, X);
    const fresh = initTheta(shape, initA0(shape, rng));
    assert.ok(deltaWeight(shape, fresh).every((v) => v === 0));
    const theta = randomTheta(shape, rng);
    const merged = mergeAdapter(layer, shape, theta, 't');
    const viaMerge = forwardLayer(merged, shape, fresh, X, baseOf(merged, X), 3).Z;
    const viaLora = forwardLayer(layer, shape, theta, X, base, 3).Z;
    for (let i = 0; i < viaLora.length; i++) assert.ok(Math.abs(viaMerge[i] - viaLora[i]) < 1e-5);
    const back = unmergeAdapter(merged, shape, theta, 't');
    for (let i = 0; i < back.weight.length; i++) assert.ok(Math.abs(back.weight[i] - layer.weight[i]) < 1e-6);
  });

  it('merge rejects non-finite results and names the adapter', () => {
    const rng = createRng(3);
    const layer = randomLayer(4, 4, 'identity', false, rng);
    const shape = loraShape(layer, 1);
    const theta = randomTheta(shape, rng);
    theta[theta.length - 1] = Infinity;
    assert.throws(() => mergeAdapter(layer, shape, theta, 'bad-one'), /bad-one/);
  });
});

function batchOf(labels: number[], support: number[], query: number[], X: Float32Array, base: Float32Array, nWay: number): HeadBatch {
  const n = labels.length;
  return {
    n, X, base, nWay, labels: Int32Array.from(labels),
    isSupport: Uint8Array.from({ length: n }, (_, i) => support[i]),
    isQuery: Uint8Array.from({ length: n }, (_, i) => query[i]),
  };
}

describe('cosine-prototype head through the LoRA layer', () => {
  const rng = createRng(4);
  const layer = randomLayer(8, 6, 'tanh', true, rng);
  const shape = loraShape(layer, 2, 4);
  const labels = [0, 0, 1, 1, 2, 2, 0, 1, 2, 2];
  const X = features(labels.length, 8, rng);
  const base = baseOf(layer, X);
  const cases: Record<string, HeadBatch> = {
    'split support/query': batchOf(labels, [1, 1, 1, 1, 1, 1, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 1, 1, 1, 1], X, base, 3),
    'leave-one-out': batchOf(labels, labels.map(() => 1), labels.map(() => 1), X, base, 3),
    'leave-one-out with a 1-shot class': batchOf([0, 0, 1, 2, 2, 0], [1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 1, 1], X.subarray(0, 48), base.subarray(0, 36), 3),
  };
  for (const [name, batch] of Object.entries(cases)) {
    for (const reduction of ['sum', 'mean'] as const) {
      it(`${name} (${reduction}) gradient matches central differences`, () => {
        const theta = randomTheta(shape, rng);
        const opts = { tau: 10, reduction };
        const loss = (t: Float32Array): number => episodeLoss(layer, shape, t, batch, opts).loss;
        const out = episodeLoss(layer, shape, theta, batch, opts, new Float64Array(theta.length));
        assert.ok(Number.isFinite(out.loss) && out.loss > 0);
        assert.ok(worstFdError(loss, theta, out.grad, { nCoords: 8 }) <= TOL);
      });
    }
  }

  it('never scores a 1-shot class against itself: all-singleton LOO has no scored rows', () => {
    const batch = batchOf([0, 1, 2], [1, 1, 1], [1, 1, 1], X.subarray(0, 24), base.subarray(0, 18), 3);
    const out = episodeLoss(layer, shape, randomTheta(shape, rng), batch, { tau: 10, reduction: 'sum' });
    assert.equal(out.count, 0);
    assert.equal(out.loss, 0);
  });
});
