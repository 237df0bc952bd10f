/**
 * In-memory caches are bounded by bytes, not entries: however many and however large the
 * adapters a client makes the server restore, the restored heads stay within the configured
 * memory, and one adapter larger than the whole budget is served without being kept.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LayerSpec } from '../adapters/lora.ts';
import type { Adapter } from '../registry/types.ts';
import { AdapterHeads } from '../service/adapter-heads.ts';
import { checkJsonShape, MAX_JSON_VALUES } from '../server/json-shape.ts';
import { LruCache } from '../service/lru.ts';

const IN = 16, OUT = 8;
const LAYER: LayerSpec = {
  inDim: IN, outDim: OUT, weight: new Float32Array(IN * OUT).fill(0.1), bias: new Float32Array(OUT), activation: 'tanh', normalize: true,
};

function adapter(i: number, rank: number): Adapter {
  return {
    id: `id-${i}`, name: `a${i}`, version: 1, contentHash: `hash-${i}`, method: 'independent', baseModelSha: 'base', taskId: null,
    labels: ['x', 'y'], rank, alpha: rank, extra: { tau: 10, nWay: 2 }, metrics: {}, trainingConfig: {}, parents: {} as Adapter['parents'], createdMs: 0,
    parameters: {
      lora_A: new Float32Array(rank * IN).fill(i / 100), lora_B: new Float32Array(OUT * rank).fill(0.01), prototypes: new Float32Array(2 * OUT).fill(1),
    },
  };
}

describe('LruCache by weight', () => {
  it('evicts least recently used entries until the total weight fits, and skips entries heavier than the capacity', () => {
    const cache = new LruCache<string, Uint8Array>(100, (v) => v.byteLength);
    cache.set('a', new Uint8Array(40));
    cache.set('b', new Uint8Array(40));
    assert.ok(cache.get('a'));
    cache.set('c', new Uint8Array(40));
    assert.equal(cache.get('b'), undefined, 'b was least recently used');
    assert.ok(cache.get('a') && cache.get('c'));
    assert.equal(cache.weight, 80);
    cache.set('huge', new Uint8Array(101));
    assert.equal(cache.get('huge'), undefined);
    assert.equal(cache.weight, 80, 'a refused entry evicts nothing');
    cache.set('a', new Uint8Array(10));
    assert.equal(cache.weight, 50, 'replacing an entry replaces its weight');
    cache.delete('c');
    assert.equal(cache.weight, 10);
    assert.equal(new LruCache<string, number>(3).capacity, 3);
  });
});

describe('AdapterHeads', () => {
  it('keeps restored heads within its byte budget however many large adapters are served', async () => {
    const rank = 64;
    const one = 2 * (rank * IN + OUT * rank + 2 * OUT) * 4;
    const heads = new AdapterHeads(5 * one + 5 * 4096);
    let loads = 0;
    for (let i = 0; i < 200; i++) {
      const a = adapter(i, rank);
      const head = await heads.get(a, LAYER, async () => { loads++; return a; });
      assert.equal(head.predict([new Float32Array(IN).fill(1)]).probs.length, 1);
      assert.ok(heads.bytes <= 5 * one + 5 * 4096, `after ${i + 1}: ${heads.bytes} bytes`);
    }
    assert.equal(loads, 200);
    const recent = adapter(199, rank);
    await heads.get(recent, LAYER, async () => { loads++; return recent; });
    assert.equal(loads, 200, 'the most recent head is still cached');
    const big = adapter(1000, 4096);
    const served = await heads.get(big, LAYER, async () => big);
    assert.equal(served.bytes > 5 * one, true);
    assert.ok(heads.bytes <= 5 * one + 5 * 4096, 'a head larger than the budget is served, not kept');
  });
});

describe('JSON body shape', () => {
  it('refuses bodies with more values or deeper nesting than allowed, counting structure outside strings only', () => {
    const buf = (s: string) => Buffer.from(s);
    const array = (n: number, item: string) => `[${Array.from({ length: n }, () => item).join(',')}]`;
    checkJsonShape(buf(array(MAX_JSON_VALUES, '0')));
    checkJsonShape(buf(array(MAX_JSON_VALUES / 2, '{}')));
    assert.throws(() => checkJsonShape(buf(array(MAX_JSON_VALUES / 2 + 1, '{}'))), /at most 100,000 JSON values/);
    assert.throws(() => checkJsonShape(buf(array(MAX_JSON_VALUES + 1, '0'))), /at most 100,000 JSON values/);
    checkJsonShape(buf('['.repeat(64) + ']'.repeat(64)));
    assert.throws(() => checkJsonShape(buf('['.repeat(65) + ']'.repeat(65))), /nested at most 64 levels/);
    assert.throws(() => checkJsonShape(buf('{"a":'.repeat(65) + '1' + '}'.repeat(65))), /nested at most 64 levels/);
    checkJsonShape(buf(JSON.stringify({ text: '['.repeat(1000) + ','.repeat(200_000) + '\\"{{{' })));
    checkJsonShape(buf(JSON.stringify(['\\', '"', '[[[['.repeat(100)])));
    // Escaped quotes and escaped backslashes before a quote: only an unescaped quote ends a string.
    checkJsonShape(buf(JSON.stringify([`\\"${'['.repeat(100)}`, '\\\\', `\\\\"${'{'.repeat(100)}\\`])));
    assert.throws(() => checkJsonShape(buf(`["a\\\\"${'['.repeat(70)}`)), /nested at most 64 levels/, 'a string ending in an escaped backslash is closed');
    checkJsonShape(buf(`["unterminated ${'['.repeat(100)}`));
    // Long runs of whitespace or digits are jumped over, never the structure after them.
    const pad = ' '.repeat(40);
    assert.throws(() => checkJsonShape(buf(Array.from({ length: 65 }, () => '[').join(pad))), /nested at most 64 levels/);
    assert.throws(() => checkJsonShape(buf(`[${Array.from({ length: MAX_JSON_VALUES + 1 }, () => '1'.repeat(20)).join(`,${pad}`)}]`)), /at most 100,000 JSON values/);
    checkJsonShape(buf(`[${pad}"${'['.repeat(100)}"${pad}, ${'7'.repeat(100)} ,"a\\"${pad}]`));
    assert.throws(() => checkJsonShape(buf(`[${pad}"${'['.repeat(100)}"${pad}${'['.repeat(64)}`)), /nested at most 64 levels/);
  });
});
