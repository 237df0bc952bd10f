/**
 * Cross-adapter batched prediction. Requests arriving within a short window (or until enough
 * inputs are queued) are run together: their inputs are deduplicated by content hash per base
 * model, the backbone runs once over the distinct inputs (through the feature caches), and only
 * the small per-adapter head math runs per request. So a thousand adapters in flight cost one
 * backbone pass, not a thousand.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { LayerSpec } from '../adapters/lora.ts';
import { sharedRowCache } from '../adapters/row-cache.ts';
import type { HeadOutput } from './adapter-heads.ts';
import type { LoadedBackbone } from './backbones.ts';
import type { FeatureItem } from './inputs.ts';
import type { PredictJob } from './predict.ts';
import type { Runtime } from './runtime.ts';

export interface BatcherOptions {
  /** Wait this long after the first queued request before running. */
  readonly windowMs: number;
  /** Run at once when this many inputs are queued. */
  readonly maxInputs: number;
}

/**
 * Inputs answered per turn of the event loop. An answer's head math, formatting and write all
 * run in the turn that resolves it, so a full batch answered at once (256 one-input requests)
 * held the loop for a whole batch of responses while every other request, /healthz included,
 * waited; answering 32 inputs a turn lets other I/O in between.
 */
export const INPUTS_PER_TURN = 32;

/**
 * Splits `items` in order into consecutive turns of at most `limit` total size; an item larger
 * than `limit` gets a turn of its own.
 */
export function splitTurns<T>(items: readonly T[], size: (item: T) => number, limit: number): T[][] {
  const turns: T[][] = [];
  let turn: T[] = [];
  let used = 0;
  for (const item of items) {
    const n = size(item);
    if (turn.length > 0 && used + n > limit) {
      turns.push(turn);
      turn = [];
      used = 0;
    }
    turn.push(item);
    used += n;
  }
  if (turn.length > 0) turns.push(turn);
  return turns;
}

/**
 * Multiply-adds of the frozen layer (W·x + b, one [out, in] matvec per new row) done per turn
 * before the heads run. Every head computes that product for its rows (adapters/row-cache.ts),
 * and for 256 never-seen 512-d texts it took 100-250 ms in one turn. 4M (16 text rows, 2 image
 * rows) kept /healthz at most 46 ms during such a predict on the loaded 2-core machine; 8M let
 * it reach 51-87 ms.
 */
export const BASE_MACS_PER_TURN = 4_000_000;

/**
 * Fills the shared row cache of `layer` for `rows`, a few rows per turn, so the heads that then
 * predict on these very row objects find W·x + b memoised instead of computing it all at once.
 */
export async function precomputeBaseRows(layer: LayerSpec, rows: readonly Float32Array[]): Promise<void> {
  const cache = sharedRowCache(layer);
  const perTurn = Math.max(1, Math.floor(BASE_MACS_PER_TURN / (layer.inDim * layer.outDim)));
  let computed = 0;
  for (const row of rows) {
    if (cache.has(row)) continue; // seen before: nothing to compute, no turn to give up
    if (computed > 0 && computed % perTurn === 0) await nextTurn();
    cache.base(row);
    computed++;
  }
}

export interface BatchObserver {
  batched(requests: number, inputs: number, distinct: number): void;
}

interface Pending {
  readonly job: PredictJob;
  readonly resolve: (out: HeadOutput) => void;
  readonly reject: (err: unknown) => void;
}

export class PredictBatcher {
  private queue: Pending[] = [];
  private queuedInputs = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly runtime: Runtime, private readonly options: BatcherOptions, private readonly observer: BatchObserver) {}

  predict(job: PredictJob): Promise<HeadOutput> {
    return new Promise((resolve, reject) => {
      this.queue.push({ job, resolve, reject });
      this.queuedInputs += job.items.length;
      if (this.queuedInputs >= this.options.maxInputs) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), this.options.windowMs);
    });
  }

  /** Runs everything queued now (also used on shutdown). */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const batch = this.queue;
    this.queue = [];
    this.queuedInputs = 0;
    if (batch.length > 0) void this.run(batch);
  }

  private async run(batch: Pending[]): Promise<void> {
    const byBase = new Map<string, { backbone: LoadedBackbone<unknown>; items: Map<string, FeatureItem>; members: Pending[] }>();
    let inputs = 0;
    for (const p of batch) {
      const sha = p.job.backbone.baseModel.sha256;
      let group = byBase.get(sha);
      if (!group) byBase.set(sha, group = { backbone: p.job.backbone, items: new Map(), members: [] });
      for (const item of p.job.items) group.items.set(item.hash, item);
      group.members.push(p);
      inputs += p.job.items.length;
    }
    this.observer.batched(batch.length, inputs, [...byBase.values()].reduce((s, g) => s + g.items.size, 0));
    await Promise.all([...byBase.values()].map(async (group) => {
      let rows: Map<string, Float32Array>;
      try {
        const distinct = [...group.items.values()];
        const features = await this.runtime.featurizer.features(group.backbone, distinct);
        rows = new Map(distinct.map((item, i) => [item.hash, features[i]]));
        await precomputeBaseRows(group.backbone.encoder.layer, features);
      } catch (err) {
        for (const p of group.members) p.reject(err);
        return;
      }
      const turns = splitTurns(group.members, (p) => p.job.items.length, INPUTS_PER_TURN);
      for (const [k, turn] of turns.entries()) {
        if (k > 0) await nextTurn();
        for (const p of turn) this.answer(p, rows);
      }
    }));
  }

  private answer(p: Pending, rows: ReadonlyMap<string, Float32Array>): void {
    try {
      const out = p.job.head.predict(p.job.items.map((item) => rows.get(item.hash)!));
      this.runtime.observer.predicted(p.job.head.summary.id, p.job.items.length);
      p.resolve(out);
    } catch (err) {
      p.reject(err);
    }
  }
}
