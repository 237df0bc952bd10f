import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loraShape, thetaSize } from '../adapters/lora.ts';
import { createFromTable, METHOD_FAMILIES, METHOD_NAMES, METHOD_TABLE, type MethodName } from '../adapters/method-table.ts';
import { createRng } from '../adapters/rng.ts';
import { ValidationError } from '../registry/errors.ts';
import { createMethod, methodName } from '../service/methods.ts';
import { META_VARIANTS } from '../service/train-baselines.ts';
import { makeEpisode, makeFamily } from './synthetic-tasks.ts';

describe('the method table', () => {
  const fam = makeFamily(8, createRng(51));
  const cfg = { rank: 2, steps: 3, lr: 0.01 };
  const dim = thetaSize(loraShape(fam.layer, 2, 2));
  const theta = new Float32Array(dim);
  const prior = { weights: Float64Array.from([1]), means: [theta], variances: [new Float32Array(dim).fill(0.01)], sigma2: 0.01, beta2: 1, dim };
  const meta = {
    starts: new Map(METHOD_NAMES.map((n) => [n as string, { theta }])),
    zoo: [{ id: 'z', theta, embedding: new Float32Array(8).fill(1) }],
    clusters: [{ index: 0, members: ['z'], theta, arrow: new Float32Array(8).fill(1) }],
  };

  it('every method built from the table carries its record name and fits a 1-shot episode', () => {
    const ep = makeEpisode(fam, 3, 1, 2, createRng(52));
    for (const name of METHOD_NAMES) {
      const m = createFromTable(name, { layer: fam.layer, cfg, prior, meta });
      assert.equal(m.name, name);
      const probs = m.fitPredict(ep.support, ep.query.features, 3, createRng(1));
      assert.equal(probs.length, ep.query.features.length, name);
      assert.ok(probs.every((p) => Math.abs(p.reduce((s, v) => s + v, 0) - 1) < 1e-4), name);
    }
  });

  it('facts agree with themselves: uncertainty only where a prior is sampled; MAML variants derive from it', () => {
    const uncertain = METHOD_NAMES.filter((n) => METHOD_TABLE[n].uncertainty);
    assert.deepEqual(uncertain, ['lift-posterior']);
    for (const n of METHOD_NAMES) {
      const r = METHOD_TABLE[n];
      assert.equal(r.needsMetaTraining, r.stores.length > 0, n);
      if (r.needsPrior) assert.ok((r.stores as readonly string[]).includes('prior'), n);
    }
    assert.deepEqual(META_VARIANTS.map((v) => v.name), ['maml-1', 'maml-5', 'fomaml', 'reptile']);
  });

  it('families: the table lists each family as one run, in METHOD_FAMILIES order, and the needs match', () => {
    const runs = METHOD_NAMES.map((n) => METHOD_TABLE[n].family).filter((f, i, all) => i === 0 || all[i - 1] !== f);
    assert.deepEqual(runs, Object.keys(METHOD_FAMILIES));
    for (const n of METHOD_NAMES) {
      const r = METHOD_TABLE[n];
      assert.equal(r.family === 'lift', r.needsPrior, n);
      assert.equal(r.family === 'meta-learned' || r.family === 'lift', r.needsMetaTraining, n);
    }
  });

  it('unknown names are a ValidationError listing the valid ones; aliases resolve', () => {
    assert.equal(methodName('protonet'), 'prototypes');
    assert.throws(() => methodName('nope'), (err: unknown) => err instanceof ValidationError && /lift-map/.test(String(err)));
    const ctx = { layer: fam.layer, prior: null, options: {} };
    assert.throws(() => createMethod('lift-map' satisfies MethodName, ctx), /no LiFT prior/);
    assert.throws(() => createMethod('maml-1', ctx), /meta-training/);
  });
});
