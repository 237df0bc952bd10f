/**
 * Memoised base pre-activations W·x + b per feature row object. The [out, in] matvec is the
 * most expensive part of adapting on cached features, and it never changes for a frozen layer,
 * so each row pays it once per layer however many episodes, methods or requests use it.
 * Keys are the row objects themselves (WeakMap), so nothing outlives its row.
 */
import { check } from './errors.ts';
import { matmulABt } from './linalg.ts';
import type { LayerSpec } from './lora.ts';

export interface RowCache {
  readonly layer: LayerSpec;
  base(row: Float32Array): Float32Array;
  /** Whether `row`'s W·x + b is memoised already. */
  has(row: Float32Array): boolean;
}

export function createRowCache(layer: LayerSpec): RowCache {
  const memo = new WeakMap<Float32Array, Float32Array>();
  return {
    layer,
    has: (row) => memo.has(row),
    base(row) {
      let b = memo.get(row);
      if (!b) {
        check(row.length === layer.inDim, () => `feature row: expected length ${layer.inDim}, got ${row.length}`);
        b = matmulABt(row, layer.weight, 1, layer.inDim, layer.outDim, new Float32Array(layer.outDim), layer.bias) as Float32Array;
        memo.set(row, b);
      }
      return b;
    },
  };
}

const shared = new WeakMap<LayerSpec, RowCache>();

/**
 * The RowCache of a layer object, shared by every trainer in the process (a pure memo: the
 * same rows and layer always give the same values). Lets MAML, MBC and MAP-hierarchical pay
 * the [out, in] matvec per training row once between them.
 */
export function sharedRowCache(layer: LayerSpec): RowCache {
  let cache = shared.get(layer);
  if (!cache) {
    cache = createRowCache(layer);
    shared.set(layer, cache);
  }
  return cache;
}

