import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readSafetensors, writeSafetensors, f16ToFloat } from '../registry/safetensors.ts';
import { ValidationError } from '../registry/errors.ts';

/** A raw file from a header object (or literal header text) and a data section. */
function rawFile(header: unknown, data: Uint8Array = new Uint8Array(0), lengthOverride?: bigint): Uint8Array {
  const json = Buffer.from(typeof header === 'string' ? header : JSON.stringify(header), 'utf8');
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, lengthOverride ?? BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

const f32 = (n: number) => ({ dtype: 'F32', shape: [n], data_offsets: [0, n * 4] });

function rejects(bytes: Uint8Array, pattern: RegExp, options?: { maxHeaderBytes?: number }): void {
  assert.throws(() => readSafetensors(bytes, options), (err: unknown) => {
    assert.ok(err instanceof ValidationError, `expected ValidationError, got ${String(err)}`);
    assert.match(err.message, pattern);
    return true;
  });
}

test('write -> read round-trips F32 exactly, with metadata, sorted and 8-byte aligned', () => {
  const a = Float32Array.from([1.5, -0, NaN, 3.4e38, 1e-45, -2]);
  const b = Float32Array.from({ length: 6 }, (_, i) => i / 7);
  const bytes = writeSafetensors({ 'z.weight': { shape: [2, 3], data: b }, 'a.weight': { shape: [6], data: a }, empty: { shape: [0, 4], data: new Float32Array(0) } }, { format: 'pt' });
  const headerLen = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  assert.equal(headerLen % 8, 0);
  const header = JSON.parse(Buffer.from(bytes.subarray(8, 8 + headerLen)).toString());
  assert.deepEqual(Object.keys(header), ['__metadata__', 'a.weight', 'empty', 'z.weight']);
  assert.deepEqual(header['a.weight'].data_offsets, [0, 24]);

  const file = readSafetensors(bytes);
  assert.deepEqual(file.metadata, { format: 'pt' });
  assert.deepEqual(new Uint32Array(file.tensors['a.weight'].data.buffer), new Uint32Array(a.buffer));
  assert.deepEqual(file.tensors['z.weight'].shape, [2, 3]);
  assert.deepEqual(file.tensors['z.weight'].data, b);
  assert.equal(file.tensors.empty.data.length, 0);
  assert.deepEqual(writeSafetensors({ 'a.weight': { shape: [6], data: a }, empty: { shape: [0, 4], data: new Float32Array(0) }, 'z.weight': { shape: [2, 3], data: b } }, { format: 'pt' }), bytes, 'deterministic');
  assert.throws(() => writeSafetensors({ x: { shape: [2, 2], data: new Float32Array(3) } }), /expected 4 values/);
});

test('F16 and BF16 are converted to Float32Array', () => {
  const data = new Uint8Array(8);
  const view = new DataView(data.buffer);
  view.setUint16(0, 0x3c00, true); // f16 1.0
  view.setUint16(2, 0xc000, true); // f16 -2.0
  view.setUint16(4, 0x3fc0, true); // bf16 1.5
  view.setUint16(6, 0xc040, true); // bf16 -3.0
  const file = readSafetensors(rawFile({
    h: { dtype: 'F16', shape: [2], data_offsets: [0, 4] },
    b: { dtype: 'BF16', shape: [1, 2], data_offsets: [4, 8] },
  }, data));
  assert.deepEqual([...file.tensors.h.data], [1, -2]);
  assert.deepEqual([...file.tensors.b.data], [1.5, -3]);
  assert.equal(file.tensors.h.dtype, 'F16');
  assert.equal(f16ToFloat(0x0001), 2 ** -24);
  assert.equal(f16ToFloat(0x7c00), Infinity);
});

test('hostile: truncated length field, header larger than the file or the cap', () => {
  rejects(new Uint8Array(5), /at least 8 bytes/);
  rejects(rawFile({ x: f32(1) }, new Uint8Array(4), 1n << 62n), /exceeds the cap/);
  rejects(rawFile({ x: f32(1) }, new Uint8Array(4), 10_000n), /larger than the \d+ bytes after the length field/);
  rejects(rawFile({ x: f32(1) }, new Uint8Array(4)), /exceeds the cap of 8 bytes/, { maxHeaderBytes: 8 });
});

test('hostile: header that is not a JSON object', () => {
  rejects(rawFile('{"x": {"dtype": "F32",'), /not valid JSON/);
  rejects(rawFile('[1, 2, 3]'), /JSON object starting with '\{'/);
  rejects(rawFile('{"x": 5}'), /tensor 'x': expected an object/);
  rejects(rawFile({ __metadata__: { a: 1 } }), /__metadata__ 'a': expected a string/);
});

test('hostile: offsets overlapping, out of range, reversed, leaving gaps or trailing bytes', () => {
  const data = new Uint8Array(16);
  rejects(rawFile({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } }, data), /overlap/);
  rejects(rawFile({ a: { dtype: 'F32', shape: [8], data_offsets: [0, 32] } }, data), /out of range/);
  rejects(rawFile({ a: { dtype: 'F32', shape: [1], data_offsets: [8, 4] } }, data), /end 4 is before begin 8/);
  rejects(rawFile({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [1], data_offsets: [12, 16] } }, data), /gap in data before offset 12/);
  rejects(rawFile({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }, data), /cover 8 bytes but the data section is 16/);
  rejects(rawFile({ a: { dtype: 'F32', shape: [2], data_offsets: [0] } }, data), /data_offsets \[begin, end\]/);
  rejects(rawFile({ a: { dtype: 'F32', shape: [2], data_offsets: [-8, 0] } }, data), /non-negative integers/);
});

test('hostile: byte size disagreeing with shape x dtype size', () => {
  rejects(rawFile({ a: { dtype: 'F32', shape: [3], data_offsets: [0, 16] } }, new Uint8Array(16)), /expected 12 bytes for F32 shape \[3\], got 16/);
  rejects(rawFile({ a: { dtype: 'F16', shape: [2, 2], data_offsets: [0, 16] } }, new Uint8Array(16)), /expected 8 bytes for F16/);
});

test('hostile: unsupported or unknown dtypes are rejected by name', () => {
  rejects(rawFile({ a: { dtype: 'F64', shape: [2], data_offsets: [0, 16] } }, new Uint8Array(16)), /unsupported dtype F64 \(supported: F32, F16, BF16\)/);
  rejects(rawFile({ a: { dtype: 'I8', shape: [4], data_offsets: [0, 4] } }, new Uint8Array(4)), /unsupported dtype I8/);
  rejects(rawFile({ a: { dtype: 'Q4_K', shape: [4], data_offsets: [0, 4] } }, new Uint8Array(4)), /unknown dtype "Q4_K"/);
  rejects(rawFile({ a: { dtype: 7, shape: [1], data_offsets: [0, 4] } }, new Uint8Array(4)), /dtype to be a string/);
});

test('hostile: non-integer or negative shapes', () => {
  rejects(rawFile({ a: { dtype: 'F32', shape: [1.5], data_offsets: [0, 4] } }, new Uint8Array(4)), /non-negative integer dimensions/);
  rejects(rawFile({ a: { dtype: 'F32', shape: [-1, -4], data_offsets: [0, 16] } }, new Uint8Array(16)), /non-negative integer dimensions/);
  rejects(rawFile({ a: { dtype: 'F32', shape: '4', data_offsets: [0, 16] } }, new Uint8Array(16)), /shape to be an array/);
  rejects(rawFile({ a: { dtype: 'F32', shape: [2 ** 40, 2 ** 40], data_offsets: [0, 16] } }, new Uint8Array(16)), /expected .* bytes for F32/);
});

test('a tensor named __proto__ is an ordinary entry, not a prototype change', () => {
  const file = readSafetensors(rawFile('{"__proto__": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}', new Uint8Array(4)));
  assert.deepEqual(Object.keys(file.tensors), ['__proto__']);
  assert.equal(Object.getPrototypeOf(file.tensors), Object.prototype);
});
