/**
 * Load test of a LiFT zoo server on loopback, in one bounded run:
 *  1. fit latency (p50/p95, client-side and server-reported) of a 5-way 5-shot text task, for
 *     each method the server can fit (LiFT only when a prior exists);
 *  2. prediction throughput (autocannon) with every request for ONE adapter, then with requests
 *     spread over 1,000 DISTINCT adapters (distinct content hashes) in flight, same inputs pool.
 * Prints measured figures only.
 *
 * Usage: npx tsx scripts/load-test.ts [--fits 50] [--duration 10] [--connections 64] [--adapters 1000]
 *        [--url http://127.0.0.1:8080 --api-key KEY]   (default: spawns a server on a temp registry)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { joinTheta, loraShape, seededA0 } from '../adapters/lora.ts';
import { createRng } from '../adapters/rng.ts';
import { openRegistry } from '../registry/open.ts';
import { DEFAULT_BUDGET } from '../service/methods.ts';

/** The part of autocannon's API used here (the package ships no types). */
interface AutocannonResult {
  readonly '2xx': number;
  readonly non2xx: number;
  readonly errors: number;
  readonly latency: { readonly p50: number; readonly p99: number };
}
type Autocannon = (options: Record<string, unknown>) => Promise<AutocannonResult>;
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

const opts = new Command()
  .option('--fits <n>', 'fits per method', '50')
  .option('--duration <s>', 'seconds per throughput phase', '10')
  .option('--connections <n>', 'concurrent connections', '64')
  .option('--adapters <n>', 'distinct adapters in the many-adapter phase', '1000')
  .option('--url <url>', 'target an already running server (loopback only)')
  .option('--api-key <key>', 'API key of that server')
  .parse()
  .opts<{ fits: string; duration: string; connections: string; adapters: string; url?: string; apiKey?: string }>();

const TOPICS: Record<string, string[]> = {
  animals: ['The dog barked at the mailman.', 'A horse galloped across the field.', 'The kitten chased a ball of yarn.', 'Wolves hunt in packs at night.', 'The eagle soared above the cliffs.'],
  food: ['I ate a bowl of pasta for dinner.', 'Fresh bread and butter for breakfast.', 'She baked a chocolate cake.', 'The soup needs more salt.', 'We grilled vegetables and fish.'],
  sports: ['The striker scored in the final minute.', 'He hit a home run in the ninth inning.', 'The tennis match went to five sets.', 'The marathon runners crossed the line.', 'Our team won the basketball final.'],
  weather: ['Heavy rain is expected tomorrow.', 'The sky cleared after the storm.', 'It snowed all night in the mountains.', 'A warm breeze blew across the beach.', 'Thick fog covered the valley this morning.'],
  music: ['The orchestra played a symphony.', 'She practices the piano every day.', 'The band released a new album.', 'He sang a song with his guitar.', 'The concert sold out in minutes.'],
};
const QUERIES = [
  'A cat slept on the windowsill.', 'We ordered pizza and salad.', 'The goalkeeper saved a penalty.', 'Thunder rolled over the hills.',
  'The violinist tuned her instrument.', 'A fox crossed the road.', 'Rice with beans and spicy sauce.', 'The cyclist won the stage.',
  'It will be sunny and hot today.', 'The choir rehearsed a hymn.', 'Sheep grazed on the hillside.', 'Pancakes with maple syrup.',
  'The boxer threw a heavy punch.', 'Hail damaged the cars outside.', 'A drummer kept the beat.', 'The owl hooted in the dark.',
];

let base = '';
const headers: Record<string, string> = { 'content-type': 'application/json' };

async function post(route: string, body: unknown): Promise<any> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const res = await fetch(base + route, { method: 'POST', headers, body: JSON.stringify(body) });
  const json = await res.json();
  if (!res.ok) throw new Error(`${route}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}
async function get(route: string): Promise<any> { // eslint-disable-line @typescript-eslint/no-explicit-any
  return (await fetch(base + route)).json();
}

function percentile(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
}

function assertLoopback(url: string): void {
  const host = new URL(url).hostname;
  if (!['127.0.0.1', 'localhost', '[::1]', '::1'].includes(host)) throw new Error(`--url must be a loopback address, got ${host}`);
}

/** Spawns `scripts/serve.ts` on an ephemeral port with a temporary registry; resolves its URL. */
function spawnServer(dir: string): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(import.meta.dirname, 'serve.ts'), '--port', '0', '--registry', path.join(dir, 'registry.sqlite')], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve({ url: m[1], child });
    });
    child.once('exit', (code) => reject(new Error(`server exited with code ${code} before listening`)));
  });
}

async function metric(name: string): Promise<number> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.split(' ')[1]) : 0;
}

async function measureFits(method: string, n: number): Promise<void> {
  const client: number[] = [], server: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const r = await post('/v1/tasks/load-5way/fit', { method, seed: i, name: `load.${method}` });
    client.push(performance.now() - t0);
    server.push(r.fit_ms);
  }
  const f = (v: number) => v.toFixed(1).padStart(7);
  console.log(`  ${method.padEnd(15)} n=${n}  server fit ms p50 ${f(percentile(server, 50))} p95 ${f(percentile(server, 95))}   HTTP round trip ms p50 ${f(percentile(client, 50))} p95 ${f(percentile(client, 95))}`);
}

/** Distinct adapters: the fitted LoRA adapter re-imported under new names with distinct τ (distinct content hashes). */
async function makeAdapters(sourceId: string, count: number): Promise<string[]> {
  const peft = await get(`/v1/adapters/${sourceId}/peft`);
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const config = structuredClone(peft['adapter_config.json']);
    config.lift_zoo.extra.tau = 10 + i / 1000;
    const r = await post('/v1/adapters/import', { 'adapter_config.json': config, 'adapter_model.safetensors': peft['adapter_model.safetensors'], name: `load.many.${i}` });
    ids.push(r.adapter.id);
  }
  return ids;
}

async function throughput(label: string, adapterIds: string[], duration: number, connections: number): Promise<void> {
  let next = 0;
  const batchesBefore = await metric('lift_predict_batches_total');
  const result = await autocannon({
    url: `${base}/v1/predict`, method: 'POST', headers, duration, connections,
    requests: [{
      setupRequest: (req: any) => { // eslint-disable-line @typescript-eslint/no-explicit-any
        const i = next++;
        return { ...req, body: JSON.stringify({ adapter: { id: adapterIds[i % adapterIds.length] }, inputs: [{ text: QUERIES[i % QUERIES.length] }] }) };
      },
    }],
  });
  const batches = await metric('lift_predict_batches_total') - batchesBefore;
  const ok = result['2xx'];
  console.log(`  ${label.padEnd(26)} ${(ok / duration).toFixed(0).padStart(6)} req/s  latency p50 ${result.latency.p50} ms p99 ${result.latency.p99} ms  non-2xx ${result.non2xx}  errors ${result.errors}  requests/batch ${(ok / Math.max(1, batches)).toFixed(1)}`);
}

/**
 * For a spawned server's own registry: a synthetic K = 2 prior around A0 / B = 0 at the shared
 * budget's rank, so
 * LiFT fit latency can be timed. Its quality is irrelevant to timing; it is labelled as such.
 */
async function insertTimingPrior(registryUrl: string): Promise<void> {
  const store = await openRegistry(registryUrl);
  try {
    const baseModel = (await store.listBaseModels()).find((b) => b.modality === 'text')!;
    const p = baseModel.placement[0];
    const rank = DEFAULT_BUDGET.rank;
    const shape = loraShape({ inDim: p.inDim, outDim: p.outDim, weight: new Float32Array(0), bias: new Float32Array(0), activation: 'tanh', normalize: true }, rank, rank);
    const theta0 = joinTheta(seededA0(shape, 0), new Float32Array(p.outDim * rank), shape);
    const rng = createRng(1);
    const means = new Float32Array(2 * theta0.length);
    means.set(theta0, 0);
    means.set(theta0.map((v) => v + 0.01 * rng.normal()), theta0.length);
    await store.createPrior({
      name: 'load-test-timing-prior', baseModel: baseModel.sha256, weights: Float32Array.from([0.5, 0.5]), means,
      variances: new Float32Array(means.length).fill(1e-3), sigma2: 1e-3, beta2: 1, seed: 1, config: { rank, alpha: rank, tau: 10, a0Seed: 0, synthetic: true },
    });
  } finally {
    await store.close();
  }
}

async function main(): Promise<void> {
  let child: ChildProcess | null = null;
  let dir: string | null = null;
  if (opts.url) {
    assertLoopback(opts.url);
    base = opts.url.replace(/\/$/, '');
    if (opts.apiKey) headers.authorization = `Bearer ${opts.apiKey}`;
  } else {
    dir = mkdtempSync(path.join(tmpdir(), 'lift-load-'));
    const spawned = await spawnServer(dir);
    child = spawned.child;
    base = spawned.url;
  }
  try {
    const examples = Object.entries(TOPICS).flatMap(([label, texts]) => texts.map((text) => ({ label, text })));
    const existing = await fetch(`${base}/v1/tasks/load-5way`);
    if (existing.status === 404) await post('/v1/tasks', { id: 'load-5way', examples });
    let priorNote = 'the latest LiFT prior of the registry';
    if ((await get('/v1/priors')).items?.length === 0) {
      if (dir) {
        await insertTimingPrior(path.join(dir, 'registry.sqlite'));
        priorNote = `a synthetic K=2 rank-${DEFAULT_BUDGET.rank} prior (timing only)`;
      } else priorNote = 'none (LiFT methods skipped)';
    }
    const hasPrior = (await get('/v1/priors')).items?.length > 0;
    const methods = ['prototypes', 'independent', ...(hasPrior ? ['lift-map', 'lift-posterior'] : [])];
    console.log(`server ${base}; 5-way 5-shot text task; LiFT prior: ${priorNote}`);
    console.log(`fit latency (${opts.fits} fits per method, sequential):`);
    for (const m of methods) await measureFits(m, Number(opts.fits));
    const source = await post('/v1/tasks/load-5way/fit', { method: 'independent', name: 'load.source' });
    const t0 = performance.now();
    const many = await makeAdapters(source.adapter.id, Number(opts.adapters));
    console.log(`created ${many.length} distinct adapters by PEFT import in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    // Warm the feature cache for the query pool so both phases measure the same path.
    await post('/v1/predict', { adapter: { id: source.adapter.id }, inputs: QUERIES.map((text) => ({ text })) });
    console.log(`prediction throughput (${opts.duration} s each, ${opts.connections} connections, 1 input per request):`);
    await throughput('1 adapter', [source.adapter.id], Number(opts.duration), Number(opts.connections));
    await throughput(`${many.length} distinct adapters`, many, Number(opts.duration), Number(opts.connections));
  } finally {
    if (child) {
      child.kill('SIGTERM');
      await new Promise((r) => child!.once('exit', r));
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}

await main();
