/**
 * /metrics of a real server, after real traffic (a task, a fit, predictions), passes promtool's
 * lint (Debian package prometheus; .ci/run installs it) and keeps prom-client's standard default
 * names, which stock Node.js dashboards look for.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startServer, type RunningServer } from '../server/start.ts';
import { DEFAULT_CONFIG } from '../server/config.ts';
import { createLogger } from '../service/log.ts';

let server: RunningServer;
let dir: string;

async function post(path: string, body: unknown): Promise<Record<string, any>> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const res = await fetch(server.url + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const json = await res.json();
  assert.ok(res.ok, `${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

/** Runs promtool with `input` on stdin; resolves with its exit code and output. */
function promtool(args: string[], input: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('promtool', args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => { output += d; });
    child.stderr.on('data', (d) => { output += d; });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
    child.stdin.end(input);
  });
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lift-metrics-'));
  server = await startServer({ ...DEFAULT_CONFIG, port: 0, registryUrl: `sqlite:${join(dir, 'registry.sqlite')}` }, { logger: createLogger('silent') });
  await post('/v1/tasks', {
    id: 'weather-or-food',
    examples: [
      { label: 'weather', text: 'Heavy rain is expected tonight.' }, { label: 'weather', text: 'A sunny and warm afternoon.' },
      { label: 'food', text: 'She baked a loaf of rye bread.' }, { label: 'food', text: 'The soup needs more salt.' },
    ],
  });
  const fit = await post('/v1/tasks/weather-or-food/fit', { method: 'independent', steps: 5 });
  await post('/v1/predict', { adapter: { id: fit.adapter.id }, inputs: [{ text: 'Snow is falling.' }, { text: 'Pasta with tomato sauce.' }] });
  await fetch(`${server.url}/v1/no-such-route`);
});

after(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('/metrics', () => {
  it('passes promtool check metrics', async () => {
    const text = await (await fetch(`${server.url}/metrics`)).text();
    assert.match(text, /^lift_adapter_predictions_total\{adapter="[^"]+"\} 2$/m, 'the traffic above is counted');
    const { code, output } = await promtool(['check', 'metrics'], text);
    assert.equal(code, 0, `promtool check metrics:\n${output}`);
  });

  it('promtool would catch a bad exposition (the check can fail)', async () => {
    const { code } = await promtool(['check', 'metrics'], '# HELP fooCount counts\n# TYPE fooCount counter\nfooCount 1\n');
    assert.notEqual(code, 0);
  });

  it("keeps prom-client's standard default names", async () => {
    const text = await (await fetch(`${server.url}/metrics`)).text();
    for (const name of ['process_cpu_user_seconds_total', 'process_resident_memory_bytes', 'nodejs_eventloop_lag_seconds', 'nodejs_heap_size_used_bytes']) {
      assert.match(text, new RegExp(`^${name} `, 'm'), name);
    }
    assert.doesNotMatch(text, /^lift_process_/m);
  });
});
