import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { jacobiEigen, kMeans, sparsifyTopFraction, truncatedSvd } from '../adapters/cluster-math.ts';
import { linearProbe, probeLoss, frozenEmbeddings } from '../adapters/linear-probe.ts';
import { deltaWeight, initA0, initTheta, loraShape, seededA0, splitTheta, type LoraShape } from '../adapters/lora.ts';
import { buildZoo, fuseThetas, loraRetriever, mixtureTheta, retrieve, taskEmbedding } from '../adapters/lora-retriever.ts';
import { mamlMethod, mamlTrain, type MamlResult } from '../adapters/maml.ts';
import { mapHierarchicalMethod, mapHierarchicalTrain, type MapHierarchicalResult } from '../adapters/map-hierarchical.ts';
import { prepareSupport } from '../adapters/adapt.ts';
import { arrowPrototype, chooseCluster, clusterLoras, mbcMethod, mbcTrain, type MbcResult } from '../adapters/mbc.ts';
import { trainPooledLora } from '../adapters/pooled-lora.ts';
import { metaTaskFromLabelled, type MetaTask } from '../adapters/meta-task.ts';
import { frozenPrototypes, type FewShotMethod } from '../adapters/method.ts';
import { createRng, type Rng } from '../adapters/rng.ts';
import { worstFdError } from './fd-helpers.ts';
import { accuracy, makeEpisode, makeFamily, makeTask } from './synthetic-tasks.ts';

function randn(n: number, rng: Rng, scale = 1): Float64Array {
  return Float64Array.from({ length: n }, () => scale * rng.normal());
}

describe('clustering tools', () => {
  it('Jacobi eigen-decomposition reconstructs a symmetric matrix', () => {
    const rng = createRng(1), n = 7;
    const X = randn(n * n, rng);
    const S = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) S[i * n + j] = X[i * n + j] + X[j * n + i];
    const { values, vectors } = jacobiEigen(S, n);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let k = 0; k < n; k++) s += vectors[i * n + k] * values[k] * vectors[j * n + k];
        assert.ok(Math.abs(s - S[i * n + j]) < 1e-9);
      }
    }
    for (let k = 1; k < n; k++) assert.ok(values[k - 1] >= values[k]);
  });

  it('truncated SVD recovers a rank-3 matrix exactly and orders singular values', () => {
    const rng = createRng(2), n = 12, D = 40, r = 3;
    const L = randn(n * r, rng), R = randn(r * D, rng);
    const M = new Float64Array(n * D);
    for (let i = 0; i < n; i++) for (let c = 0; c < D; c++) for (let k = 0; k < r; k++) M[i * D + c] += L[i * r + k] * R[k * D + c];
    const svd = truncatedSvd(M, n, D, 8);
    assert.equal(svd.rank, r);
    let err = 0, total = 0;
    for (let i = 0; i < n; i++) {
      for (let c = 0; c < D; c++) {
        let s = 0;
        for (let k = 0; k < svd.rank; k++) s += svd.U[i * svd.rank + k] * svd.S[k] * svd.Vt[k * D + c];
        err += (s - M[i * D + c]) ** 2;
        total += M[i * D + c] ** 2;
      }
    }
    assert.ok(Math.sqrt(err / total) < 1e-8, `relative reconstruction error ${Math.sqrt(err / total)}`);
    assert.ok(svd.S[0] >= svd.S[1] && svd.S[1] >= svd.S[2]);
    // A rank-2 truncation keeps the two largest components only.
    assert.equal(truncatedSvd(M, n, D, 2).rank, 2);
  });

  it('sparsification keeps the top fraction by magnitude', () => {
    const out = sparsifyTopFraction(Float32Array.from([0.1, -5, 0.3, 2, -0.2, 0.05, 1, -0.4, 0.6, 0.7]), 0.2);
    assert.deepEqual(Array.from(out), [0, -5, 0, 2, 0, 0, 0, 0, 0, 0]);
  });

  it('k-means (k-means++ seeds) recovers well-separated clusters', () => {
    const rng = createRng(3), d = 5, per = 10, k = 3;
    const centers = [0, 1, 2].map(() => randn(d, rng, 10));
    const X = new Float64Array(k * per * d);
    for (let c = 0; c < k; c++) for (let i = 0; i < per; i++) for (let j = 0; j < d; j++) X[(c * per + i) * d + j] = centers[c][j] + 0.3 * rng.normal();
    const { labels } = kMeans(X, k * per, d, k, createRng(4));
    for (let c = 0; c < k; c++) {
      const group = new Set(Array.from(labels.subarray(c * per, (c + 1) * per)));
      assert.equal(group.size, 1, `cluster ${c} split`);
    }
    assert.equal(new Set(labels).size, k);
  });

  it('MBC clustering groups LoRAs that share their large entries', () => {
    const rng = createRng(5), dim = 60, per = 6;
    const bases = [0, 1, 2].map((g) => Float64Array.from({ length: dim }, (_, j) => (Math.floor(j / 20) === g ? 1 + rng.uniform() : 0)));
    const thetas = bases.flatMap((b) => Array.from({ length: per }, () => Float32Array.from(b, (v) => v * (0.5 + rng.uniform()) + 0.05 * rng.normal())));
    const { labels } = clusterLoras(thetas, { clusters: 3, svdDim: 8 }, createRng(6));
    for (let g = 0; g < 3; g++) assert.equal(new Set(Array.from(labels.subarray(g * per, (g + 1) * per))).size, 1);
    assert.equal(new Set(labels).size, 3);
  });

  it('Arrow prototype is the top right-singular vector of ΔW = scaling·B·A', () => {
    const rng = createRng(7);
    const shape: LoraShape = { inDim: 9, outDim: 6, rank: 3, alpha: 6 };
    const theta = initTheta(shape, initA0(shape, rng));
    const { B } = splitTheta(theta, shape);
    for (let i = 0; i < B.length; i++) B[i] = rng.normal();
    const v = arrowPrototype(shape, theta);
    const ref = truncatedSvd(deltaWeight(shape, theta), shape.outDim, shape.inDim, 1).Vt;
    let d = 0;
    for (let j = 0; j < shape.inDim; j++) d += v[j] * ref[j];
    assert.ok(Math.abs(Math.abs(d) - 1) < 1e-6, `|cos| = ${Math.abs(d)}`);
  });
});

describe('linear probe and LoRA-Retriever pieces', () => {
  const fam = makeFamily(16, createRng(20).fork('family'));

  it('probe loss gradient matches central differences (rel. ≤ 1e-5)', () => {
    const rng = createRng(8);
    const ep = makeEpisode(fam, 3, 2, 0, rng);
    const Zhat = frozenEmbeddings(fam.layer, ep.support.features);
    const V = Float32Array.from({ length: 3 * 16 }, () => rng.normal());
    const { grad } = probeLoss(V, Zhat, ep.support.labels, 3, 16, 0.1);
    assert.ok(worstFdError((v) => probeLoss(v, Zhat, ep.support.labels, 3, 16, 0.1).loss, V, grad, { h: 1e-3 }) <= 1e-5);
  });

  it('retrieve returns the zoo task whose embedding matches the query inputs', () => {
    const rng = createRng(9);
    const tasks = Array.from({ length: 6 }, (_, i) => makeTask(fam, 3, 8, rng.fork(`t${i}`)));
    const zoo = buildZoo(fam.layer, tasks.map((t, i) => ({ id: `task-${i}`, theta: new Float32Array(4), inputs: t.features })));
    for (let i = 0; i < tasks.length; i++) {
      // Fresh inputs of task i's classes.
      const fresh = tasks[i].means.flatMap((m) => [0, 1].map(() => Float32Array.from(m, (v) => v + 0.5 * rng.normal())));
      const hit = retrieve(zoo, taskEmbedding(fam.layer, fresh), 3);
      assert.equal(hit.ids[0], `task-${i}`);
      assert.equal(hit.ids.length, 3);
      assert.ok(hit.scores[0] >= hit.scores[1] && hit.scores[1] >= hit.scores[2]);
    }
  });

  it('mixture composition = the mean of the LoRAs’ ΔW; fusion = mean of factors', () => {
    const rng = createRng(10);
    const shape = loraShape(fam.layer, 2, 4);
    const thetas = [0, 1, 2].map(() => Float32Array.from(initTheta(shape, initA0(shape, rng)), (v, i) => (i < 32 ? v : rng.normal())));
    const mix = mixtureTheta(thetas, shape);
    assert.equal(mix.shape.rank, 6);
    const dMix = deltaWeight(mix.shape, mix.theta);
    const dMean = new Float64Array(dMix.length);
    for (const t of thetas) deltaWeight(shape, t).forEach((v, i) => { dMean[i] += v / 3; });
    dMix.forEach((v, i) => assert.ok(Math.abs(v - dMean[i]) < 1e-5));
    const fused = fuseThetas(thetas);
    fused.forEach((v, i) => assert.ok(Math.abs(v - (thetas[0][i] + thetas[1][i] + thetas[2][i]) / 3) < 1e-6));
  });
});

describe('meta-learned baselines on a synthetic family with shared structure', () => {
  const rng = createRng(11);
  const fam = makeFamily(16, rng.fork('family'));
  const tune = { rank: 2, alpha: 2, tau: 10, a0Seed: 0, steps: 30, lr: 0.01 };
  const nTasks = 12;
  let tasks: MetaTask[];
  let maml1: MamlResult, maml5: MamlResult, fomaml: MamlResult, reptile: MamlResult;
  let mapHier: MapHierarchicalResult;
  let mbc: MbcResult;
  let methods: Record<string, FewShotMethod>;

  before(() => {
    const data = Array.from({ length: nTasks }, (_, i) => makeTask(fam, 5, 10, rng.fork(`task${i}`)));
    tasks = data.map((d, i) => metaTaskFromLabelled(`task-${i}`, d, { shots: 3, queries: 5 }));
    const meta = { ...tune, metaBatch: 4, outerLr: 0.01, innerLr: 0.01 };
    maml1 = mamlTrain(tasks, fam.layer, { ...meta, metaSteps: 150 }, rng.fork('maml1'), 'maml', 1);
    maml5 = mamlTrain(tasks, fam.layer, { ...meta, metaSteps: 60, outerLr: 0.02 }, rng.fork('maml5'), 'maml', 5);
    fomaml = mamlTrain(tasks, fam.layer, { ...meta, metaSteps: 150 }, rng.fork('fomaml'), 'fomaml', 1);
    reptile = mamlTrain(tasks, fam.layer, { ...meta, innerLr: 0.02, metaSteps: 100, reptileEps: 0.3 }, rng.fork('reptile'), 'reptile', 5);
    mapHier = mapHierarchicalTrain(tasks, fam.layer, { ...tune, steps: 600, lr: 0.01, sigma2: 0.01, beta2: 1 }, rng.fork('map'));
    const zoo = buildZoo(fam.layer, tasks.map((t, i) => ({ id: t.id, theta: mapHier.thetas[i], inputs: t.sampleInputs!(20, rng.fork(`in${i}`)) })));
    mbc = mbcTrain(zoo, tasks, fam.layer, { ...tune, clusters: 3, svdDim: 8, trainSteps: 150, trainLr: 0.01 }, rng.fork('mbc'));
    methods = {
      frozen: frozenPrototypes(fam.layer),
      probe: linearProbe(fam.layer),
      maml1: mamlMethod(maml1, fam.layer, tune),
      maml5: mamlMethod(maml5, fam.layer, tune),
      fomaml: mamlMethod(fomaml, fam.layer, tune),
      reptile: mamlMethod(reptile, fam.layer, tune),
      mapHier: mapHierarchicalMethod(mapHier, fam.layer, tune),
      mbcLik: mbcMethod(mbc.clusters, fam.layer, { route: 'likelihood' }, tune),
      mbcArrow: mbcMethod(mbc.clusters, fam.layer, { route: 'arrow' }, tune),
      retrFusion0: loraRetriever(zoo, fam.layer, { compose: 'fusion', fineTune: false }, tune),
      retrMix0: loraRetriever(zoo, fam.layer, { compose: 'mixture', fineTune: false }, tune),
      retrFusionFt: loraRetriever(zoo, fam.layer, { compose: 'fusion', fineTune: true }, tune),
      retrMixFt: loraRetriever(zoo, fam.layer, { k: 2, compose: 'mixture', fineTune: true }, tune),
    };
  });

  it('Reptile moves θ0 along the segment to the task solution (θ0 + ε(θ_task − θ0))', () => {
    const cfg = { ...tune, metaBatch: 1, outerLr: 0, innerLr: 0.02, metaSteps: 1 };
    const start = initTheta(loraShape(fam.layer, 2, 2), seededA0(loraShape(fam.layer, 2, 2), 0));
    const full = mamlTrain(tasks, fam.layer, { ...cfg, reptileEps: 1 }, createRng(30), 'reptile', 5).theta0;
    const half = mamlTrain(tasks, fam.layer, { ...cfg, reptileEps: 0.5 }, createRng(30), 'reptile', 5).theta0;
    let moved = 0;
    for (let i = 0; i < start.length; i++) {
      assert.ok(Math.abs(half[i] - (start[i] + full[i]) / 2) < 1e-6);
      moved += (full[i] - start[i]) ** 2;
    }
    assert.ok(moved > 0);
    // Over training, the adapted task loss falls.
    const n = reptile.postLossTrace.length;
    const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
    assert.ok(mean(reptile.preLossTrace.slice(n - 20)) < mean(reptile.preLossTrace.slice(0, 20)));
  });

  it('MAML meta-training lowers the post-adaptation query loss', () => {
    for (const r of [maml1, fomaml]) {
      const n = r.postLossTrace.length;
      const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
      assert.ok(mean(r.postLossTrace.slice(n - 30)) < mean(r.postLossTrace.slice(0, 30)) - 0.05, `${r.variant}`);
    }
  });

  it('MBC trains one LoRA per cluster covering every zoo task', () => {
    const members = mbc.clusters.flatMap((c) => c.members);
    assert.equal(members.length, nTasks);
    assert.equal(new Set(members).size, nTasks);
    for (const c of mbc.clusters) assert.ok(c.theta.some((v, i) => i >= 32 && v !== 0));
  });

  it('every method returns probability rows; the meta-learned ones beat frozen prototypes', (t) => {
    const episodes = 12;
    const acc: Record<string, number> = {};
    for (let e = 0; e < episodes; e++) {
      const ep = makeEpisode(fam, 5, 3, 6, rng.fork(`eval/${e}`));
      for (const [name, m] of Object.entries(methods)) {
        const probs = m.fitPredict(ep.support, ep.query.features, 5, rng.fork(`m/${e}`));
        assert.equal(probs.length, ep.query.features.length);
        for (const p of probs) {
          assert.equal(p.length, 5);
          assert.ok(p.every((v) => v >= 0 && Number.isFinite(v)));
          assert.ok(Math.abs(p.reduce((s, v) => s + v, 0) - 1) < 1e-5);
        }
        acc[name] = (acc[name] ?? 0) + accuracy(probs, ep.query.labels) / episodes;
      }
    }
    t.diagnostic(Object.entries(acc).map(([k, v]) => `${k} ${(100 * v).toFixed(1)}`).join(' | '));
    for (const name of ['maml1', 'maml5', 'fomaml', 'reptile', 'mapHier', 'mbcLik', 'mbcArrow', 'retrFusion0', 'retrFusionFt', 'retrMixFt']) {
      assert.ok(acc[name] > acc.frozen + 0.05, `${name}: ${acc[name].toFixed(3)} vs frozen ${acc.frozen.toFixed(3)}`);
    }
  });

  it('1-shot supports still give probability rows; MBC likelihood routing is defined at 1 shot', () => {
    const ep = makeEpisode(fam, 5, 1, 3, rng.fork('one-shot'));
    for (const [name, m] of Object.entries(methods)) {
      const probs = m.fitPredict(ep.support, ep.query.features, 5, createRng(2));
      assert.equal(probs.length, 15, name);
      for (const p of probs) assert.ok(Math.abs(p.reduce((s, v) => s + v, 0) - 1) < 1e-5 && p.every(Number.isFinite), name);
    }
    const shape = loraShape(fam.layer, 2, 2);
    const routed = chooseCluster(mbc.clusters, prepareSupport(fam.layer, shape, ep.support, 5, 10), ep.support.features, 'likelihood');
    assert.equal(routed.route, 'likelihood');
    assert.ok(routed.scores.every(Number.isFinite));
  });

  it('pooled LoRA: early stopping returns the best validation checkpoint and stops after `patience` checks without one', () => {
    const shape = loraShape(fam.layer, 2, 2);
    const init = initTheta(shape, seededA0(shape, 0));
    // A score that peaks at the 3rd check: training must stop 2 checks later and return that checkpoint.
    let calls = 0;
    const scores = [0.1, 0.2, 0.5, 0.9, 0.4, 0.3, 0.95];
    const snapshots: Float32Array[] = [];
    const out = trainPooledLora(tasks, fam.layer, shape, init, { maxSteps: 60, lr: 0.01, tau: 10, evalEvery: 10, patience: 2 },
      (theta) => { snapshots.push(Float32Array.from(theta)); return scores[calls++]; }, createRng(5));
    assert.deepEqual(out.trace.map((p) => p.step), [0, 10, 20, 30, 40, 50]);
    assert.equal(out.bestStep, 30);
    assert.equal(out.bestScore, 0.9);
    assert.deepEqual(Array.from(out.theta), Array.from(snapshots[3]));
    assert.ok(snapshots[3].some((v, i) => v !== init[i]), 'training moved θ');
  });

  it('fit gives a storable adapter that predicts like fitPredict', () => {
    const ep = makeEpisode(fam, 5, 3, 4, rng.fork('fit'));
    for (const name of ['probe', 'maml1', 'mbcArrow', 'retrMix0', 'mapHier']) {
      const m = methods[name];
      const a = m.fit(ep.support, 5, createRng(1)).predict(ep.query.features);
      const b = m.fitPredict(ep.support, ep.query.features, 5, createRng(1));
      a.forEach((p, i) => p.forEach((v, c) => assert.ok(Math.abs(v - b[i][c]) < 1e-6)));
    }
  });
});
