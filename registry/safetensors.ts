/**
 * safetensors reader and writer.
 *
 * Layout: 8-byte little-endian header length N, N bytes of JSON header, then raw little-endian
 * tensor data. The header maps tensor names to `{ dtype, shape, data_offsets: [begin, end] }`
 * (offsets relative to the data section) plus an optional `__metadata__` string map.
 *
 * The writer is deterministic (names sorted, data in name order, header padded with spaces to a
 * multiple of 8 so data is aligned), so equal tensors give byte-equal files and equal hashes.
 * The reader treats the file as hostile: every size and offset is checked before any data is
 * touched, data must be covered exactly (no gaps, no overlaps, nothing trailing), and dtypes
 * other than F32/F16/BF16 are rejected by name. Everything is returned as Float32Array.
 */
import { ValidationError } from './errors.ts';
import { float32ToLeBytes, leBytesToFloat32 } from './blobs.ts';

export type SupportedDtype = 'F32' | 'F16' | 'BF16';
const DTYPE_SIZES: Readonly<Record<SupportedDtype, number>> = { F32: 4, F16: 2, BF16: 2 };
/** Dtypes defined by the format that we recognise but do not accept. */
const KNOWN_UNSUPPORTED = ['BOOL', 'U8', 'I8', 'I16', 'U16', 'I32', 'U32', 'I64', 'U64', 'F64', 'F8_E4M3', 'F8_E5M2'];
/** Default cap on the JSON header: a header this large is an attack, not a model. */
export const DEFAULT_MAX_HEADER_BYTES = 100 * 1024 * 1024;

export interface SafeTensor {
  /** Row-major. */
  readonly shape: readonly number[];
  readonly data: Float32Array;
  /** Dtype in the file (data is always converted to float32). */
  readonly dtype: SupportedDtype;
}

export interface SafetensorsFile {
  readonly tensors: Record<string, SafeTensor>;
  readonly metadata: Record<string, string>;
}

export interface TensorToWrite {
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

function fail(message: string): never {
  throw new ValidationError(`safetensors: ${message}`);
}

/** Writes F32 tensors (names sorted) with optional string metadata. */
export function writeSafetensors(tensors: Readonly<Record<string, TensorToWrite>>, metadata?: Readonly<Record<string, string>>): Uint8Array {
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length > 0) {
    const sorted: Record<string, string> = {};
    for (const k of Object.keys(metadata).sort()) {
      if (typeof metadata[k] !== 'string') fail(`metadata '${k}': expected a string, got ${typeof metadata[k]}`);
      sorted[k] = metadata[k];
    }
    header.__metadata__ = sorted;
  }
  const names = Object.keys(tensors).sort();
  let offset = 0;
  for (const name of names) {
    if (name === '__metadata__') fail(`tensor name '__metadata__' is reserved`);
    const { shape, data } = tensors[name];
    checkShape(name, shape);
    const count = shape.reduce((a, b) => a * b, 1);
    if (count !== data.length) fail(`tensor '${name}': expected ${count} values for shape [${shape.join(', ')}], got ${data.length}`);
    header[name] = { dtype: 'F32', shape: [...shape], data_offsets: [offset, offset + data.length * 4] };
    offset += data.length * 4;
  }
  let json = Buffer.from(JSON.stringify(header), 'utf8');
  const padded = Math.ceil(json.length / 8) * 8;
  if (padded !== json.length) json = Buffer.concat([json, Buffer.alloc(padded - json.length, 0x20)]);
  const out = new Uint8Array(8 + json.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let at = 8 + json.length;
  for (const name of names) {
    const bytes = float32ToLeBytes(tensors[name].data);
    out.set(bytes, at);
    at += bytes.length;
  }
  return out;
}

function checkShape(name: string, shape: unknown): asserts shape is number[] {
  if (!Array.isArray(shape)) fail(`tensor '${name}': expected shape to be an array of integers, got ${JSON.stringify(shape)}`);
  for (const dim of shape) {
    if (typeof dim !== 'number' || !Number.isSafeInteger(dim) || dim < 0) {
      fail(`tensor '${name}': expected non-negative integer dimensions, got shape ${JSON.stringify(shape)}`);
    }
  }
}

interface HeaderEntry { name: string; dtype: SupportedDtype; shape: number[]; begin: number; end: number }

function parseHeader(bytes: Uint8Array, maxHeaderBytes: number): { entries: HeaderEntry[]; metadata: Record<string, string>; dataStart: number } {
  if (bytes.length < 8) fail(`expected at least 8 bytes for the header length, got ${bytes.length}`);
  const n = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigUint64(0, true);
  if (n > BigInt(maxHeaderBytes)) fail(`header length ${n} exceeds the cap of ${maxHeaderBytes} bytes`);
  if (n > BigInt(bytes.length - 8)) fail(`header length ${n} is larger than the ${bytes.length - 8} bytes after the length field`);
  const headerLen = Number(n);
  const text = Buffer.from(bytes.buffer, bytes.byteOffset + 8, headerLen).toString('utf8');
  if (!text.startsWith('{')) fail(`expected the header to be a JSON object starting with '{', got ${JSON.stringify(text.slice(0, 16))}`);
  let header: unknown;
  try { header = JSON.parse(text); } catch (err) { fail(`header is not valid JSON (${(err as Error).message})`); }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) fail('expected the header to be a JSON object');
  const metadata: Record<string, string> = {};
  const entries: HeaderEntry[] = [];
  for (const [name, value] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') { readMetadata(value, metadata); continue; }
    entries.push(readEntry(name, value));
  }
  return { entries, metadata, dataStart: 8 + headerLen };
}

function readMetadata(value: unknown, into: Record<string, string>): void {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail('expected __metadata__ to be an object of strings');
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== 'string') fail(`__metadata__ '${k}': expected a string, got ${typeof v}`);
    Object.defineProperty(into, k, { value: v, enumerable: true, writable: true });
  }
}

function readEntry(name: string, value: unknown): HeaderEntry {
  if (typeof value !== 'object' || value === null) fail(`tensor '${name}': expected an object with dtype, shape, data_offsets`);
  const { dtype, shape, data_offsets: offsets } = value as Record<string, unknown>;
  if (typeof dtype !== 'string') fail(`tensor '${name}': expected dtype to be a string, got ${typeof dtype}`);
  if (!(dtype in DTYPE_SIZES)) {
    fail(KNOWN_UNSUPPORTED.includes(dtype)
      ? `tensor '${name}': unsupported dtype ${dtype} (supported: F32, F16, BF16)`
      : `tensor '${name}': unknown dtype ${JSON.stringify(dtype)} (supported: F32, F16, BF16)`);
  }
  checkShape(name, shape);
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => typeof o === 'number' && Number.isSafeInteger(o) && o >= 0)) {
    fail(`tensor '${name}': expected data_offsets [begin, end] of non-negative integers, got ${JSON.stringify(offsets)}`);
  }
  const [begin, end] = offsets as number[];
  if (end < begin) fail(`tensor '${name}': data_offsets end ${end} is before begin ${begin}`);
  const count = shape.reduce((a, b) => a * b, 1);
  const size = DTYPE_SIZES[dtype as SupportedDtype];
  if (end - begin !== count * size) {
    fail(`tensor '${name}': expected ${count * size} bytes for ${dtype} shape [${shape.join(', ')}], got ${end - begin}`);
  }
  return { name, dtype: dtype as SupportedDtype, shape, begin, end };
}

/** Data must be covered exactly once, in some order, from 0 to the end of the file. */
function checkCoverage(entries: HeaderEntry[], dataLength: number): void {
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  for (const e of sorted) {
    if (e.end > dataLength) fail(`tensor '${e.name}': data_offsets [${e.begin}, ${e.end}] out of range (data section is ${dataLength} bytes)`);
    if (e.begin < cursor) fail(`tensor '${e.name}': data_offsets [${e.begin}, ${e.end}] overlap the previous tensor (ends at ${cursor})`);
    if (e.begin > cursor) fail(`tensor '${e.name}': gap in data before offset ${e.begin} (previous tensor ends at ${cursor})`);
    cursor = e.end;
  }
  if (cursor !== dataLength) fail(`tensors cover ${cursor} bytes but the data section is ${dataLength} bytes`);
}

export function readSafetensors(bytes: Uint8Array, options: { maxHeaderBytes?: number } = {}): SafetensorsFile {
  const { entries, metadata, dataStart } = parseHeader(bytes, options.maxHeaderBytes ?? DEFAULT_MAX_HEADER_BYTES);
  checkCoverage(entries, bytes.length - dataStart);
  const data = bytes.subarray(dataStart);
  const tensors: Record<string, SafeTensor> = {};
  for (const e of entries) {
    Object.defineProperty(tensors, e.name, {
      value: { shape: e.shape, dtype: e.dtype, data: decode(data, e) }, enumerable: true, writable: true,
    });
  }
  return { tensors, metadata };
}

function decode(data: Uint8Array, e: HeaderEntry): Float32Array {
  if (e.dtype === 'F32') return leBytesToFloat32(data.subarray(e.begin, e.end));
  const view = new DataView(data.buffer, data.byteOffset + e.begin, e.end - e.begin);
  const toFloat = e.dtype === 'BF16' ? bf16ToFloat : f16ToFloat;
  const out = new Float32Array((e.end - e.begin) / 2);
  for (let i = 0; i < out.length; i++) out[i] = toFloat(view.getUint16(i * 2, true));
  return out;
}

const scratch = new DataView(new ArrayBuffer(4));
/** bfloat16 is the top half of a float32. */
function bf16ToFloat(bits: number): number {
  scratch.setUint32(0, bits << 16);
  return scratch.getFloat32(0);
}

/** IEEE half -> float (exact: every half is representable in float32). */
export function f16ToFloat(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >> 10) & 0x1f;
  const frac = bits & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}
