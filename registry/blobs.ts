/**
 * Tensor blobs and content hashes.
 *
 * Blobs: tensors are stored as msgpackr-packed maps whose data is explicit little-endian bytes
 * (not msgpackr's native typed-array encoding, which follows the host byte order), so a blob
 * written on any machine reads back bit-exactly on any other. Records/structure sharing are
 * off so a blob is a plain msgpack map that any msgpack reader can decode.
 *
 * Content hashes: sha256 over a canonical, type-tagged encoding (object keys sorted, numbers as
 * float64 LE, tensors as float32 LE bytes). Identity of adapters, priors and examples is this
 * hash, so re-uploading the same content is recognised and changed content never aliases an
 * old entry. JSON-like values hash the same before and after a JSON round trip through SQLite
 * (undefined members are dropped, -0 is hashed as 0), so a stored entity re-hashes to its key.
 */
import { createHash, type Hash } from 'node:crypto';
import { endianness } from 'node:os';
import { Packr } from 'msgpackr';
import { ValidationError, describeValue } from './errors.ts';

const packr = new Packr({ useRecords: false, moreTypes: false });
const HOST_IS_LE = endianness() === 'LE';
const BLOB_FORMAT = 'f32le';

/** Float32Array -> little-endian bytes (a copy). */
export function float32ToLeBytes(values: Float32Array): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  if (HOST_IS_LE) {
    out.set(new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
  } else {
    const view = new DataView(out.buffer);
    for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i], true);
  }
  return out;
}

/** Little-endian bytes -> Float32Array (a fresh, aligned copy; NaN payloads preserved). */
export function leBytesToFloat32(bytes: Uint8Array): Float32Array {
  if (bytes.byteLength % 4 !== 0) {
    throw new ValidationError(`float32 data: expected a multiple of 4 bytes, got ${bytes.byteLength}`);
  }
  const out = new Float32Array(bytes.byteLength / 4);
  if (HOST_IS_LE) {
    new Uint8Array(out.buffer).set(bytes);
  } else {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(i * 4, true);
  }
  return out;
}

/** One tensor -> blob. */
export function packTensor(values: Float32Array): Buffer {
  return packr.pack({ format: BLOB_FORMAT, data: float32ToLeBytes(values) });
}

/** Blob -> one tensor; rejects blobs that are not in our format. */
export function unpackTensor(blob: Uint8Array): Float32Array {
  const decoded: unknown = packr.unpack(blob);
  return decodeTensorEntry(decoded, 'tensor blob');
}

/** Named tensors -> one blob (names sorted, so equal maps give equal bytes). */
export function packTensors(tensors: Readonly<Record<string, Float32Array>>): Buffer {
  const entries: Record<string, Uint8Array> = {};
  for (const name of Object.keys(tensors).sort()) {
    Object.defineProperty(entries, name, { value: float32ToLeBytes(tensors[name]), enumerable: true });
  }
  return packr.pack({ format: BLOB_FORMAT, tensors: entries });
}

/** Blob -> named tensors. */
export function unpackTensors(blob: Uint8Array): Record<string, Float32Array> {
  const decoded = packr.unpack(blob) as { format?: unknown; tensors?: unknown };
  if (decoded?.format !== BLOB_FORMAT || typeof decoded.tensors !== 'object' || decoded.tensors === null) {
    throw new ValidationError(`tensor-map blob: expected format '${BLOB_FORMAT}' with tensors, got ${describeValue(decoded?.format)}`);
  }
  const out: Record<string, Float32Array> = {};
  for (const [name, bytes] of Object.entries(decoded.tensors as Record<string, unknown>)) {
    if (!(bytes instanceof Uint8Array)) throw new ValidationError(`tensor '${name}': expected bytes, got ${describeValue(bytes)}`);
    Object.defineProperty(out, name, { value: leBytesToFloat32(bytes), enumerable: true, writable: true });
  }
  return out;
}

function decodeTensorEntry(decoded: unknown, what: string): Float32Array {
  const entry = decoded as { format?: unknown; data?: unknown } | null;
  if (entry?.format !== BLOB_FORMAT || !(entry.data instanceof Uint8Array)) {
    throw new ValidationError(`${what}: expected format '${BLOB_FORMAT}' with bytes, got ${describeValue(entry?.format)}`);
  }
  return leBytesToFloat32(entry.data);
}

/** Values accepted by `contentHash`: JSON-like data plus float32 tensors and raw bytes. */
export type Hashable =
  | null | boolean | number | string | undefined
  | Float32Array | Uint8Array
  | readonly Hashable[]
  | { readonly [key: string]: Hashable };

/**
 * sha256 (hex) of the canonical encoding of `value`.
 * Encoding, per value: a one-byte tag, then null 'n' | true 't' | false 'f' |
 * number 'd' + float64 LE | string 's' + u32 byte length + UTF-8 | bytes 'b' + u32 length + bytes |
 * Float32Array 'F' + u32 element count + float32 LE | array 'a' + u32 count + items |
 * object 'o' + u32 count + (key as string, value) with keys in code-unit order, undefined members skipped.
 * Non-finite numbers are rejected (they do not survive JSON storage).
 */
export function contentHash(value: Hashable): string {
  const hash = createHash('sha256');
  writeCanonical(hash, value, '$');
  return hash.digest('hex');
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
}

function writeString(hash: Hash, s: string): void {
  const bytes = Buffer.from(s, 'utf8');
  hash.update('s').update(u32(bytes.length)).update(bytes);
}

function writeCanonical(hash: Hash, value: Hashable, path: string): void {
  if (value === null || value === undefined) { hash.update('n'); return; }
  if (typeof value === 'boolean') { hash.update(value ? 't' : 'f'); return; }
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new ValidationError(`${path}: expected a finite number, got ${value}`);
    const b = Buffer.alloc(8);
    b.writeDoubleLE(value === 0 ? 0 : value);
    hash.update('d').update(b);
    return;
  }
  if (typeof value === 'string') { writeString(hash, value); return; }
  if (value instanceof Float32Array) {
    hash.update('F').update(u32(value.length)).update(float32ToLeBytes(value));
    return;
  }
  if (value instanceof Uint8Array) { hash.update('b').update(u32(value.length)).update(value); return; }
  if (Array.isArray(value)) {
    hash.update('a').update(u32(value.length));
    value.forEach((item, i) => writeCanonical(hash, item, `${path}[${i}]`));
    return;
  }
  if (typeof value === 'object' && Object.getPrototypeOf(value) !== null && Object.getPrototypeOf(value) !== Object.prototype) {
    throw new ValidationError(`${path}: expected plain data, got ${(value as object).constructor?.name ?? 'object'}`);
  }
  const obj = value as { readonly [key: string]: Hashable };
  const keys = Object.keys(obj).filter((k) => obj[k] !== undefined).sort();
  hash.update('o').update(u32(keys.length));
  for (const key of keys) {
    writeString(hash, key);
    writeCanonical(hash, obj[key], `${path}.${key}`);
  }
}

/** The raw input of an example: exactly one of text or image bytes. */
export type ExampleInput = { readonly text: string } | { readonly image: Uint8Array };

/**
 * Content hash of an example input (hex sha256), the key of the feature cache.
 * Domain-separated ('text\0' / 'image\0' prefix) so a text and an image with equal bytes differ.
 * Text is hashed as given (UTF-8, no normalisation): the tokeniser sees exactly these bytes.
 */
export function exampleHash(input: ExampleInput): string {
  const hash = createHash('sha256');
  if ('text' in input) hash.update('text\0').update(Buffer.from(input.text, 'utf8'));
  else hash.update('image\0').update(input.image);
  return hash.digest('hex');
}
