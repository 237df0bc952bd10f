/**
 * Image limits: hostile headers are refused from their first bytes (each side, total pixels,
 * interlaced deflate bombs), a request's decoded bytes are bounded before decoding, and decoding
 * runs off the event loop, so /healthz keeps answering while large images decode.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { crc32, deflateSync } from 'node:zlib';
import jpeg from 'jpeg-js';
import { checkImageHeader, decodeImage, encodePng, readImageHeader, DEFAULT_IMAGE_LIMITS } from '../backbone/image.ts';
import { startServer, type RunningServer } from '../server/start.ts';
import { DEFAULT_CONFIG } from '../server/config.ts';
import { createLogger } from '../service/log.ts';
import { ImageDecoder } from '../service/image-decoder.ts';

function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body) >>> 0);
  return Buffer.concat([len, body, crc]);
}

/** A PNG that declares width x height (8-bit RGB) with `idat` as its (deflated) data. */
function pngDeclaring(width: number, height: number, idat: Buffer, interlace = 0): Uint8Array {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; ihdr[9] = 2; ihdr[12] = interlace;
  const sig = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return new Uint8Array(Buffer.concat([sig, chunk('IHDR', ihdr), chunk('IDAT', idat), chunk('IEND', Buffer.alloc(0))]));
}

const rgb = (w: number, h: number) => ({ width: w, height: h, data: new Uint8Array(w * h * 3).fill(128) });

describe('image headers', () => {
  it('refuses a 69-byte PNG declaring 1 x 40,000,000 pixels before decoding', () => {
    const png = pngDeclaring(1, 40_000_000, deflateSync(Buffer.alloc(10)));
    assert.ok(png.length < 80, `${png.length} bytes`);
    assert.deepEqual(readImageHeader(png), { format: 'png', width: 1, height: 40_000_000, interlaced: false });
    assert.throws(() => decodeImage(png), /too large: 1x40000000, expected each side at most 2048/);
  });

  it('checks each side and the total', () => {
    assert.throws(() => checkImageHeader({ format: 'png', width: 6000, height: 6000, interlaced: false }), /each side at most/);
    assert.throws(() => checkImageHeader({ format: 'png', width: 2000, height: 2000, interlaced: false }, { maxSide: 2048, maxPixels: 1_000_000 }), /4000000 pixels, expected at most 1000000/);
    assert.doesNotThrow(() => checkImageHeader({ format: 'png', width: 224, height: 224, interlaced: false }, DEFAULT_IMAGE_LIMITS));
    assert.throws(() => checkImageHeader({ format: 'png', width: 0, height: 5, interlaced: false }), /no pixels/);
  });

  it('reads JPEG dimensions from the frame header', () => {
    const { data } = jpeg.encode({ width: 40, height: 24, data: new Uint8Array(40 * 24 * 4).fill(200) }, 90);
    assert.deepEqual(readImageHeader(new Uint8Array(data)), { format: 'jpeg', width: 40, height: 24, interlaced: false });
    assert.throws(() => readImageHeader(new Uint8Array([0xff, 0xd8, 0xff, 0xd9])), /no frame header/);
  });

  it('refuses an interlaced PNG whose data inflates beyond its declared size', () => {
    const bomb = pngDeclaring(16, 16, deflateSync(Buffer.alloc(4 * 1024 * 1024)), 1);
    assert.throws(() => decodeImage(bomb), /inflates beyond its declared 16x16/);
  });
});

describe('ImageDecoder', () => {
  it('decodes in worker threads, in order, and bounds the bytes of a request', async () => {
    const decoder = new ImageDecoder({ maxSide: 512, maxPixels: 512 * 512, maxDecodedBytes: 3 * 100 * 100 * 3 });
    try {
      const images = [rgb(10, 10), rgb(20, 5)].map((img) => ({ bytes: encodePng(img), field: 'x' }));
      const out = await decoder.decode(images);
      assert.deepEqual(out.map((o) => [o.image.width, o.image.height]), [[10, 10], [20, 5]]);
      assert.equal(typeof out[0].hash, 'string');
      const big = Array.from({ length: 4 }, (_, i) => ({ bytes: encodePng(rgb(100, 100)), field: `inputs[${i}]` }));
      await assert.rejects(decoder.decode(big), /images: expected at most 0 MB of decoded pixels per request.*over 4 images/);
      await assert.rejects(decoder.decode([{ bytes: new Uint8Array([1, 2, 3]), field: 'inputs[0].image_base64' }]), /inputs\[0\]\.image_base64: cannot decode image: unsupported format/);
      const truncated = encodePng(rgb(30, 30)).subarray(0, 60);
      await assert.rejects(decoder.decode([{ bytes: truncated, field: 'f' }]), /f: cannot decode image: invalid PNG data/);
    } finally {
      await decoder.close();
    }
  });
});

describe('server: hostile images', () => {
  let server: RunningServer;
  let dir: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lift-image-limits-'));
    server = await startServer({ ...DEFAULT_CONFIG, port: 0, registryUrl: join(dir, 'registry.sqlite'), maxDecodedBytes: 32 * 1024 * 1024 }, { logger: createLogger('silent') });
  });
  after(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const post = async (path: string, body: unknown) => {
    const res = await fetch(server.url + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: res.status, json: await res.json() as { error?: { message: string } } };
  };

  it('answers 400 to the 69-byte PNG and to a request over the decoded-bytes budget, and stays up', async () => {
    const tiny = Buffer.from(pngDeclaring(1, 40_000_000, deflateSync(Buffer.alloc(10)))).toString('base64');
    const r = await post('/v1/tasks', { id: 'evil', modality: 'image', examples: [{ label: 'a', image_base64: tiny }, { label: 'b', image_base64: tiny }] });
    assert.equal(r.status, 400);
    assert.match(r.json.error!.message, /examples\[0\]\.image_base64: image too large: 1x40000000/);
    const big = Buffer.from(encodePng(rgb(2048, 2048))).toString('base64');
    const examples = ['a', 'b', 'a'].map((label) => ({ label, image_base64: big }));
    const over = await post('/v1/tasks', { id: 'big', modality: 'image', examples });
    assert.equal(over.status, 400);
    assert.match(over.json.error!.message, /images: expected at most 32 MB of decoded pixels per request \(width x height x 3\), got 36\.0 MB over 3 images/);
    assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
  });

  it('keeps /healthz fast while large images decode', async () => {
    const noisy = (k: number) => Buffer.from(encodePng({ width: 2048, height: 2048, data: new Uint8Array(2048 * 2048 * 3).map((_, i) => (i * k) & 255) })).toString('base64');
    const creating = post('/v1/tasks', { id: 'large', modality: 'image', examples: [{ label: 'a', image_base64: noisy(7) }, { label: 'b', image_base64: noisy(13) }] });
    await new Promise((r) => setTimeout(r, 50));
    const started = performance.now();
    assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
    const ms = performance.now() - started;
    const created = await creating;
    assert.equal(created.status, 201, JSON.stringify(created.json));
    assert.ok(ms < 1000, `healthz took ${ms.toFixed(0)} ms`);
  });
});
