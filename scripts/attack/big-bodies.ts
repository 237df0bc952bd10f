/**
 * Requests of at most 10 MB chosen for the most memory per byte they could make the server use:
 * JSON that expands when parsed (millions of tiny objects, arrays or numbers), the most inputs
 * of the longest texts, a 10 MB task file, JSON nested millions deep, a PEFT import with the
 * largest tensors, and images whose headers declare the largest decodable size. Each is sent
 * once while the server's resident memory is sampled; the figure is the rise over the memory
 * just before the request.
 */
import { deflateSync } from 'node:zlib';
import type { RawRequest } from './http-client.ts';

const LIMIT = 10 * 1024 * 1024;

/** Repeats `item` (joined by `sep`) inside `open`/`close` up to `limit` bytes. */
function fill(open: string, item: string, sep: string, close: string, limit = LIMIT): Buffer {
  const n = Math.floor((limit - open.length - close.length) / (item.length + sep.length));
  return Buffer.from(open + Array.from({ length: n }, () => item).join(sep) + close);
}

/** A PNG whose header declares width x height and whose data is one tiny deflate stream. */
function declaredPng(width: number, height: number): Buffer {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (buf: Buffer) => { let c = 0xffffffff; for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8); return (c ^ 0xffffffff) >>> 0; };
  const chunk = (type: string, data: Buffer) => {
    const len = Buffer.alloc(4); len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type), data]);
    const c = Buffer.alloc(4); c.writeUInt32BE(crc(td));
    return Buffer.concat([len, td, c]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0); ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; ihdr[9] = 2; // 8-bit RGB
  const raw = Buffer.alloc(Math.min(height, 64) * (1 + width * 3)); // a few rows; the rest is missing
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

export interface BigBody {
  readonly name: string;
  readonly request: RawRequest;
}

/** The hostile bodies, each ≤ 10 MB, for a server with the given API key and fixtures. */
export function bigBodies(auth: Record<string, string>, fixtures: { task: string; adapterId: string }): BigBody[] {
  const json = { ...auth, 'content-type': 'application/json' };
  const post = (path: string, body: Buffer, headers: Record<string, string> = json): RawRequest => ({ method: 'POST', path, headers, body });
  const png2048 = declaredPng(2048, 2048).toString('base64');
  const text = 'w'.repeat(2000);
  return [
    { name: '3.5M empty objects as predict inputs', request: post('/v1/predict', fill(`{"adapter":{"id":"${fixtures.adapterId}"},"inputs":[`, '{}', ',', ']}')) },
    { name: '3.5M empty arrays in task metadata', request: post('/v1/tasks', fill('{"id":"big-meta","metadata":{"x":[', '[]', ',', ']},"examples":[]}')) },
    { name: '5M numbers in task metadata', request: post('/v1/tasks', fill('{"id":"big-nums","metadata":{"x":[', '0', ',', ']},"examples":[]}')) },
    { name: '2M one-letter strings as labels', request: post('/v1/tasks', fill('{"id":"big-labels","labels":[', '"a"', ',', '],"examples":[]}')) },
    { name: 'JSON nested 5M levels deep', request: post('/v1/tasks', Buffer.concat([Buffer.from('{"id":"deep","metadata":{"x":'), Buffer.alloc(LIMIT / 2 - 40, '['), Buffer.alloc(LIMIT / 2 - 40, ']'), Buffer.from('}}')])) },
    { name: 'the most inputs of the longest texts (predict)', request: post('/v1/predict', fill(`{"adapter":{"id":"${fixtures.adapterId}"},"inputs":[`, `{"text":"${text}"}`, ',', ']}', Math.min(LIMIT, 256 * 2020))) },
    { name: '10 MB task file (JSONL, 2-char texts)', request: post('/v1/tasks', fill('', '{"task":"big-file","label":"a","text":"xy"}', '\n', ''), { ...auth, 'content-type': 'application/x-ndjson' }) },
    { name: '256 PNGs declaring 2048x2048 each (predict)', request: post('/v1/predict', fill(`{"adapter":{"id":"${fixtures.adapterId}"},"inputs":[`, `{"image_base64":"${png2048}"}`, ',', ']}', Math.min(LIMIT, 256 * (png2048.length + 20) + 100))) },
    { name: '256 PNGs declaring 2048x2048 each (retrieve)', request: post('/v1/retrieve', fill('{"inputs":[', `{"image_base64":"${png2048}"}`, ',', ']}', Math.min(LIMIT, 256 * (png2048.length + 20) + 100))) },
    { name: 'PEFT import with a 10 MB tensor', request: post('/v1/adapters/import', Buffer.from(JSON.stringify({
      'adapter_config.json': { r: 64, lora_alpha: 64, target_modules: ['x'], peft_type: 'LORA' },
      'adapter_model.safetensors': Buffer.concat([
        (() => { const h = Buffer.from(JSON.stringify({ 'x.lora_A.weight': { dtype: 'F32', shape: [64, 28000], data_offsets: [0, 64 * 28000 * 4] } })); const n = Buffer.alloc(8); n.writeBigUInt64LE(BigInt(h.length)); return Buffer.concat([n, h]); })(),
        Buffer.alloc(64 * 28000 * 4),
      ]).toString('base64'),
    }))) },
    { name: '10 MB of spaces around an empty object', request: post(`/v1/tasks/${fixtures.task}/fit`, Buffer.concat([Buffer.alloc(LIMIT - 2, ' '), Buffer.from('{}')])) },
  ];
}
