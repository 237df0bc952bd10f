/**
 * The web console end to end, in real headless Chromium against the real server (ephemeral port,
 * temporary SQLite registry, real ONNX backbones, an API key configured): browse without a key,
 * a dropped task file (401 with a wrong key, per-line problems), a prior trained from a zoo as a
 * job watched to completion, a long job cancelled from the Jobs page, compare -> chart -> fit with alias -> reliability diagram, lineage,
 * predict with uncertainty, an image task from dropped and picked images fitted and predicted,
 * the benchmark reports, axe-core accessibility checks of every page, phone width.
 * `LIFT_SCREENSHOTS=docs/screenshots node --import tsx --test test/console.test.ts` refreshes the
 * committed screenshots.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Resvg } from '@resvg/resvg-js';
import axe from 'axe-core';
import type { Page } from 'playwright-core';
import { startServer, type RunningServer } from '../server/start.ts';
import { DEFAULT_CONFIG } from '../server/config.ts';
import { createLogger } from '../service/log.ts';
import { ensureConsoleBuilt, launchBrowser, type Browser } from './browser.ts';

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

const KEY = 'console-test-key';
let server: RunningServer;
let browser: Browser;
let dir: string;

/** Uncaught errors in each page's scripts; every test ends with none. */
const pageErrors = new WeakMap<Page, string[]>();

async function done(page: Page): Promise<void> {
  assert.deepEqual(pageErrors.get(page), []);
  await page.close();
}

/** Where to save screenshots of the pages (docs/screenshots is committed); unset: none. */
const SHOTS = process.env.LIFT_SCREENSHOTS;

async function shot(page: Page, name: string): Promise<void> {
  if (SHOTS) await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: false });
}

async function api(method: string, path: string, body?: unknown): Promise<Json> {
  const res = await fetch(server.url + path, {
    method, headers: { authorization: `Bearer ${KEY}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await res.json();
  assert.ok(res.ok, `${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

/** Topics, each with sentences; a zoo task is three topics. */
const TOPICS: Record<string, string[]> = {
  animals: ['The dog chased the cat up a tree.', 'A horse grazed in the field.', 'The parrot repeated every word.', 'Wolves hunt in packs at night.'],
  food: ['We baked bread and a cherry pie.', 'The soup needs more salt.', 'She ordered pasta with garlic.', 'Fresh fruit for breakfast again.'],
  sports: ['The striker scored in extra time.', 'He ran the marathon in three hours.', 'The team lost the final on penalties.', 'She served an ace to win the set.'],
  music: ['The orchestra tuned before the concert.', 'He plays the guitar every evening.', 'The choir sang a slow hymn.', 'Her new album tops the charts.'],
  weather: ['Heavy rain is expected tomorrow.', 'The storm knocked out the power.', 'A cold wind blew from the north.', 'It was sunny and warm all week.'],
  money: ['The bank raised interest rates.', 'Stocks fell sharply on Monday.', 'He saved half of his salary.', 'The loan must be repaid in a year.'],
};
const ZOO_TASKS = [['animals', 'food', 'sports'], ['music', 'weather', 'money'], ['animals', 'music', 'money'], ['food', 'weather', 'sports'], ['animals', 'weather', 'money'], ['food', 'music', 'sports']];

/** A new tab at `path`; with `key`, the console has it already (as after entering it in this tab). */
async function open(path = '/', key: string | null = null): Promise<Page> {
  const page = await browser.context.newPage();
  page.setDefaultTimeout(15_000);
  if (key !== null) await page.addInitScript((k) => sessionStorage.setItem('lift-zoo-api-key', k), key);
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  pageErrors.set(page, errors);
  await page.goto(server.url + path);
  return page;
}

/** Drops a file on an element the way a user's drag and drop does (a DataTransfer with the file). */
async function dropFile(page: Page, selector: string, name: string, type: string, content: string): Promise<void> {
  const dataTransfer = await page.evaluateHandle(({ name, type, content }) => {
    const dt = new DataTransfer();
    dt.items.add(new File([content], name, { type }));
    return dt;
  }, { name, type, content });
  await page.dispatchEvent(selector, 'drop', { dataTransfer });
}

interface FileSpec { readonly name: string; readonly mimeType: string; readonly buffer: Buffer }

/** Drops several files at once (one DataTransfer), as dragging a selection from a file manager does. */
async function dropFiles(page: Page, selector: string, files: readonly FileSpec[]): Promise<void> {
  const dataTransfer = await page.evaluateHandle((specs) => {
    const dt = new DataTransfer();
    for (const f of specs) dt.items.add(new File([Uint8Array.from(atob(f.base64), (c) => c.charCodeAt(0))], f.name, { type: f.type }));
    return dt;
  }, files.map((f) => ({ name: f.name, type: f.mimeType, base64: f.buffer.toString('base64') })));
  await page.dispatchEvent(selector, 'drop', { dataTransfer });
}

/** An OpenMoji emoji (npm package openmoji) rendered to a 96 px PNG on white. */
function emojiPng(name: string, codepoint: string): FileSpec {
  const svg = readFileSync(join(dirname(createRequire(import.meta.url).resolve('openmoji/package.json')), 'color', 'svg', `${codepoint}.svg`), 'utf8');
  const buffer = new Resvg(svg, { fitTo: { mode: 'width', value: 96 }, background: 'white', font: { loadSystemFonts: false } }).render().asPng();
  return { name: `${name}.png`, mimeType: 'image/png', buffer };
}

const CSV_ROWS = [
  'animals,The dog barked at the cat.,support', 'animals,A horse galloped across the field.,support',
  'food,I ate a bowl of pasta for dinner.,support', 'food,"Fresh bread, and butter for breakfast.",support',
  'sports,The striker scored a goal in the final minute.,support', 'sports,He hit a home run in the ninth inning.,support',
  'animals,A cow grazed in the meadow next to the sheep.,query', 'food,We had soup and a sandwich for lunch.,query',
  'sports,The basketball team won the championship game.,query',
];

async function useKey(page: Page, key: string): Promise<void> {
  await page.getByLabel('API key').fill(key);
  await page.getByRole('button', { name: 'Use key' }).click();
}

describe('web console in Chromium', () => {
  before(async () => {
    await ensureConsoleBuilt();
    dir = mkdtempSync(join(tmpdir(), 'lift-console-'));
    server = await startServer({ ...DEFAULT_CONFIG, port: 0, registryUrl: `sqlite:${join(dir, 'registry.sqlite')}`, apiKey: KEY }, { logger: createLogger('silent') });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves the console at /, asks for the key when a read is refused, then browses the registry', async () => {
    const res = await fetch(server.url + '/');
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /text\/html/);
    const page = await open('/#/registry/base-models');
    await page.getByRole('heading', { name: 'Registry' }).waitFor();
    const banner = page.locator('.banner[role=alert]');
    await banner.waitFor();
    assert.match(await banner.innerText(), /missing API key.*Enter the API key/);
    await page.waitForFunction(() => document.activeElement?.id === 'api-key');
    await useKey(page, KEY);
    await banner.waitFor({ state: 'detached' });
    const table = page.getByRole('table');
    await table.getByText('text', { exact: true }).waitFor();
    await table.getByText('image', { exact: true }).waitFor();
    // The key lasts the browser session: a reload reads at once. Keyboard: the skip link is the
    // first stop and moves focus to the page content.
    await page.reload();
    await table.getByText('text', { exact: true }).waitFor();
    assert.equal(await page.locator('.banner').count(), 0);
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Skip to content');
    await page.keyboard.press('Enter');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'main');
    await shot(page, 'registry');
    await done(page);
  });

  it('creates a task from a dropped CSV file: 401 with a wrong key, per-line problems, then created', async () => {
    const page = await open('/#/new-task');
    await useKey(page, 'not-the-key');
    const csv = ['label,text,split', ...CSV_ROWS].join('\n');
    await dropFile(page, '[data-dropzone="a task file"]', 'console-csv.csv', 'text/csv', csv);
    await page.getByText('Loaded console-csv.csv').waitFor();
    assert.equal(await page.getByLabel('Task id').first().inputValue(), 'console-csv');
    await page.getByRole('button', { name: 'Create task' }).first().click();
    const banner = page.locator('.banner[role=alert]');
    await banner.waitFor();
    assert.match(await banner.innerText(), /invalid API key/);
    await page.waitForFunction(() => document.activeElement?.id === 'api-key');
    await useKey(page, KEY);
    await banner.waitFor({ state: 'detached' });

    // A broken JSONL file: the API's problems are listed by line.
    const bad = ['{"task": "bad", "split": "support", "label": "a", "text": "fine"}', '{"task": "bad", "split": "sideways", "label": "b", "text": "x"}', 'not json'].join('\n');
    await dropFile(page, '[data-dropzone="a task file"]', 'bad.jsonl', 'application/x-ndjson', bad);
    await page.getByLabel('Task id').first().fill('');
    await page.getByRole('button', { name: 'Create task' }).first().click();
    const problems = page.getByRole('alert', { name: 'Problems' });
    await problems.waitFor();
    const text = await problems.innerText();
    assert.match(text, /line 2:/);
    assert.match(text, /line 3:/);

    await dropFile(page, '[data-dropzone="a task file"]', 'console-csv.csv', 'text/csv', csv);
    await page.getByLabel('Task id').first().fill('console-csv');
    await page.getByRole('button', { name: 'Create task' }).first().click();
    await page.getByRole('status').getByText('console-csv').waitFor();
    const task = await api('GET', '/v1/tasks/console-csv') as { labels: string[]; example_counts: Record<string, number> };
    assert.deepEqual(task.labels, ['animals', 'food', 'sports']);
    assert.equal(task.example_counts.query, 3);
    await done(page);
  });

  it('trains a prior from a zoo as a job and follows its progress to completion', async () => {
    for (const [i, topics] of ZOO_TASKS.entries()) {
      const examples = topics.flatMap((t) => TOPICS[t].map((text, j) => ({ label: t, text, split: j < 3 ? 'support' : 'query' })));
      await api('POST', '/v1/tasks', { id: `zoo-task-${i}`, examples });
      const fit = await api('POST', `/v1/tasks/zoo-task-${i}/fit`, { method: 'independent', steps: 5, zoo: 'console-zoo' });
      assert.ok(fit.adapter.id);
    }
    const page = await open('/#/registry/zoos/console-zoo');
    await useKey(page, KEY);
    await page.getByRole('heading', { name: /Zoo console-zoo/ }).waitFor();
    await page.getByLabel('SGLD steps').fill('1500');
    await page.getByLabel('Burn-in steps').fill('300');
    await page.getByLabel('Mixture components K').fill('2');
    // Every phase line the job page shows, recorded as it changes.
    await page.evaluate(() => {
      const seen: string[] = ((window as unknown as { phases: string[] }).phases = []);
      new MutationObserver(() => {
        const t = document.querySelector('.job-phase')?.textContent;
        if (t && seen.at(-1) !== t) seen.push(t);
      }).observe(document.body, { subtree: true, childList: true, characterData: true });
    });
    await page.getByRole('button', { name: 'Train prior (job)' }).click();
    await page.waitForURL(/#\/jobs\/job_/);
    await shot(page, 'job-running');
    await page.locator('[data-status="succeeded"]').waitFor({ timeout: 180_000 });
    const phases = await page.evaluate(() => (window as unknown as { phases: string[] }).phases);
    assert.ok(phases.some((p) => /phase \d+ of \d+: .+, \d+%/.test(p)), `a running phase was shown: ${JSON.stringify(phases)}`);
    assert.equal(phases.at(-1), 'succeeded');
    assert.equal(await page.getByRole('progressbar').getAttribute('aria-valuenow'), '100');

    await page.getByRole('link', { name: /lift\/console-zoo v1/ }).click();
    await page.getByRole('heading', { name: /Prior lift\/console-zoo/ }).waitFor();
    const curve = page.locator('[data-chart^="Training log-likelihood"] svg');
    await curve.waitFor();
    assert.match(await curve.innerHTML(), /burn-in ends \(step 300\)/);
    await page.getByRole('link', { name: /^run_/ }).waitFor();
    // The mixture as training left it: live components' weights sum to 1, pruned ones shown apart.
    const stored = await api('GET', `/v1/priors/${page.url().split('/').at(-1)}`);
    await page.locator('[data-chart^="Mixture weights"] svg').waitFor();
    const live = page.locator('tr[data-component="live"] td.num');
    assert.equal(await live.count(), stored.diagnostics.components_live);
    const total = (await live.allInnerTexts()).reduce((s, w) => s + Number(w), 0);
    assert.ok(Math.abs(total - 1) < 2e-3, `live weights sum to ${total}`);
    assert.equal(await page.locator('tr[data-component="pruned"]').count(), 2 - stored.diagnostics.components_live);
    await page.getByRole('region', { name: 'Chain diagnostics' }).getByText('ESS of φ (min / median)').waitFor();
    await shot(page, 'prior');
    await done(page);
  });

  it('cancels a running job from the Jobs page', async () => {
    // Long enough (200000 SGLD steps) to be running still when the button is clicked.
    const { job } = await api('POST', '/v1/priors', { zoo: 'console-zoo', config: { steps: 200000, burnIn: 1000 } });
    try {
      const page = await open('/#/jobs');
      await useKey(page, KEY);
      // The filters offer the kinds and statuses the server documents.
      const kinds = await page.getByLabel('Kind').locator('option').allInnerTexts();
      assert.deepEqual(kinds.slice(1), (await (await fetch(`${server.url}/openapi.json`)).json()).components.schemas.Job.properties.kind.enum);
      await page.getByLabel('Kind').selectOption('train-prior');
      const row = page.locator(`tr[data-job="${job.id}"]`);
      await row.locator('[data-status="running"]').waitFor({ timeout: 120_000 });
      await row.getByRole('button', { name: `Cancel job ${job.id}` }).click();
      await row.locator('[data-status="cancelled"]').waitFor({ timeout: 60_000 });
      assert.equal(await row.getByRole('button').count(), 0, 'a finished job has no cancel button');
      const stored = await api('GET', `/v1/jobs/${job.id}`);
      assert.equal(stored.status, 'cancelled');
      assert.ok(stored.progress < 0.5, `stopped early (progress ${stored.progress})`);
      await done(page);
    } finally {
      // A failure above must not leave a 200000-step job holding the job slot for the next tests.
      await fetch(`${server.url}/v1/jobs/${job.id}/cancel`, { method: 'POST', headers: { authorization: `Bearer ${KEY}` } });
    }
  });

  it('compares methods, charts them, fits the chosen one with an alias and draws its reliability diagram', async () => {
    const page = await open('/#/compare?task=console-csv');
    await useKey(page, KEY);
    // Methods grouped by family as the server describes them; LiFT and the from-scratch ones preselected.
    const liftBox = page.getByRole('group', { name: 'LiFT' }).getByRole('checkbox', { name: /\(lift-map\)/ });
    await liftBox.waitFor();
    assert.ok(await liftBox.isChecked());
    assert.equal(await page.getByRole('group', { name: 'Meta-learned' }).getByRole('checkbox', { checked: true }).count(), 0);
    assert.deepEqual(await page.locator('.method-groups legend').allInnerTexts(), ['Automatic', 'Frozen backbone', 'Fine-tuning', 'Meta-learned', 'LiFT']);
    assert.ok(await page.getByRole('group', { name: 'Frozen backbone' }).getByRole('checkbox', { name: /\(prototypes\)/ }).isVisible());
    await page.getByRole('button', { name: 'Run comparison' }).click();
    const table = page.locator('table.compare-table');
    await table.waitFor({ timeout: 60_000 });
    const liftRow = table.locator('tr.lift', { hasText: 'lift-map' });
    assert.match(await liftRow.innerText(), /\d+\.\d%/);
    for (const chart of ['Accuracy per method', 'Negative log-likelihood', 'Fit time']) {
      await page.locator(`[data-chart^="${chart}"] svg`).waitFor();
    }
    const accuracySvg = await page.locator('[data-chart^="Accuracy per method"] svg').innerHTML();
    assert.match(accuracySvg, /lift-map/, 'methods are named on the chart');
    await shot(page, 'compare');

    const jobs = (await api('GET', '/v1/jobs?kind=compare')).items;
    assert.equal(jobs.length, 1, 'the comparison ran as a job');
    assert.equal(jobs[0].status, 'succeeded');

    await liftRow.getByRole('radio').check();
    const diagram = page.locator('[data-chart^="Reliability of lift-map"] svg');
    await diagram.waitFor();
    assert.match(await page.locator('[data-ece]').innerText(), /^\d\.\d{3}$/);
    await page.getByLabel('Alias').fill('prod');
    await page.getByRole('button', { name: 'Fit adapter' }).click();
    await page.getByRole('status').filter({ hasText: 'Stored' }).waitFor({ timeout: 30_000 });
    assert.match(await page.getByRole('status').filter({ hasText: 'Stored' }).innerText(), /alias prod/);
    await diagram.scrollIntoViewIfNeeded();
    await shot(page, 'reliability');
    await done(page);
  });

  it('browses the lineage of the fitted adapter from zoo to prior to adapter', async () => {
    const adapter = (await api('GET', '/v1/adapters?task_id=console-csv&method=lift-map')).items[0];
    const page = await open(`/#/registry/adapters/${adapter.id}`, KEY);
    const graph = page.getByRole('group', { name: 'Lineage graph' });
    await graph.waitFor();
    await graph.getByRole('link', { name: 'zoo console-zoo' }).waitFor();
    assert.ok(await graph.getByRole('link', { name: `adapter ${adapter.name} v${adapter.version}` }).isVisible());
    await page.getByText('prod → v1').waitFor();
    await shot(page, 'adapter');
    await graph.getByRole('link', { name: /prior lift\/console-zoo/ }).click();
    await page.getByRole('heading', { name: /Prior lift\/console-zoo/ }).waitFor();
    await done(page);
  });

  it('predicts with an adapter by alias, and shows uncertainty for a posterior adapter', async () => {
    await api('POST', '/v1/tasks/console-csv/fit', { method: 'lift-posterior', name: 'console-csv/posterior' });
    const page = await open('/#/predict');
    await useKey(page, KEY);
    const adapter = (await api('GET', '/v1/adapters?task_id=console-csv&method=lift-map')).items[0];
    await page.getByLabel('Adapter id or name').fill(adapter.name);
    await page.getByLabel('Alias', { exact: true }).fill('prod');
    await page.getByLabel('Text').fill('The goalkeeper saved a penalty in the last minute.');
    await page.getByRole('button', { name: 'Predict' }).click();
    const bars = page.getByRole('list', { name: 'Class probabilities' });
    await bars.waitFor();
    assert.equal(await bars.getByRole('listitem').count(), 3);
    assert.ok(['animals', 'food', 'sports'].includes(await page.locator('[data-label]').innerText()));

    await page.getByLabel('Adapter id or name').fill('console-csv/posterior');
    await page.getByLabel('Alias', { exact: true }).fill('');
    await page.getByRole('button', { name: 'Predict' }).click();
    await page.locator('[data-mi]').waitFor();
    assert.ok(Number(await page.locator('[data-entropy]').innerText()) > 0);
    assert.match(await page.getByLabel('Uncertainty').innerText(), /posterior samples disagreeing/);
    await shot(page, 'predict');
    await done(page);
  });

  it('creates an image task from dropped and picked images, compares and fits on it, and predicts a dropped image', async () => {
    const page = await open('/#/new-task');
    await useKey(page, KEY);
    const byHand = page.getByRole('region', { name: 'By hand' });
    await byHand.getByLabel('Task id').fill('console-images');
    await byHand.getByLabel('Modality').selectOption('image');
    // Several files in one drop (one not an image), then several picked with the file chooser.
    await byHand.getByLabel('Label for dropped images').fill('animal');
    const notes = { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('not an image') };
    await dropFiles(page, '[data-dropzone="PNG or JPEG images"]', [emojiPng('dog', '1F436'), emojiPng('cat', '1F431'), emojiPng('mouse', '1F42D'), notes]);
    await byHand.getByRole('alert').getByText('notes.txt').waitFor();
    await byHand.getByRole('img', { name: 'example 3, animal' }).waitFor();
    await byHand.getByLabel('Label for dropped images').fill('fruit');
    // The file chooser by keyboard: Tab reaches it (its focus shown on the button), Space opens it.
    await byHand.getByLabel('Label for dropped images').focus();
    await page.keyboard.press('Tab');
    const pick = byHand.getByText('Choose PNG or JPEG images');
    assert.equal(await pick.evaluate((el) => getComputedStyle(el).outlineStyle), 'solid', 'keyboard focus is visible');
    const [chooser] = await Promise.all([page.waitForEvent('filechooser'), page.keyboard.press('Space')]);
    assert.ok(chooser.isMultiple());
    await chooser.setFiles([emojiPng('apple', '1F34E'), emojiPng('banana', '1F34C'), emojiPng('grapes', '1F347')]);
    await byHand.getByRole('img', { name: 'example 6, fruit' }).waitFor();
    assert.equal(await byHand.getByRole('img').count(), 6, 'the two empty starting rows gave way to the images');
    await byHand.getByLabel('Split of example 3').selectOption('query');
    await byHand.getByLabel('Split of example 6').selectOption('query');
    // A wrong label is reported against its example.
    await byHand.getByLabel('Label of example 2').fill('');
    await byHand.getByRole('button', { name: 'Create task' }).click();
    assert.match(await byHand.getByRole('alert', { name: 'Problems' }).innerText(), /example 2: /);
    await byHand.getByLabel('Label of example 2').fill('animal');
    await byHand.getByRole('button', { name: 'Create task' }).click();
    await byHand.getByRole('status').getByText('console-images').waitFor();
    const task = await api('GET', '/v1/tasks/console-images');
    assert.equal(task.modality, 'image');
    assert.deepEqual(task.labels, ['animal', 'fruit']);
    assert.deepEqual([task.example_counts.support, task.example_counts.query], [4, 2]);
    await shot(page, 'new-image-task');

    await byHand.getByRole('link', { name: 'Fit & compare it' }).click();
    const picker = page.locator('.method-groups');
    await picker.getByRole('checkbox').first().waitFor();
    const checked = picker.getByRole('checkbox', { checked: true });
    while (await checked.count() > 0) await checked.first().uncheck();
    await picker.getByRole('checkbox', { name: /\(prototypes\)/ }).check();
    await picker.getByRole('checkbox', { name: /\(linear-probe\)/ }).check();
    await page.getByRole('button', { name: 'Run comparison' }).click();
    const table = page.locator('table.compare-table');
    await table.waitFor({ timeout: 60_000 });
    assert.equal(await table.locator('tbody tr').count(), 2);
    await table.locator('tr', { hasText: '(prototypes)' }).getByRole('radio').check();
    await page.getByRole('button', { name: 'Fit adapter' }).click();
    await page.getByRole('status').filter({ hasText: 'Stored' }).getByRole('link', { name: 'Predict with it' }).click();
    await page.getByRole('heading', { name: 'Predict', level: 1 }).waitFor();
    await dropFiles(page, '[data-dropzone="image"]', [emojiPng('rabbit', '1F430')]);
    await page.getByRole('img', { name: 'the input image' }).waitFor();
    await page.getByRole('button', { name: 'Predict' }).click();
    const bars = page.getByRole('list', { name: 'Class probabilities' });
    await bars.waitFor();
    assert.equal(await bars.getByRole('listitem').count(), 2);
    assert.ok(['animal', 'fruit'].includes(await page.locator('[data-label]').innerText()));
    await done(page);
  });

  it('renders the bundled benchmark reports as charts next to their tables', async () => {
    const page = await open('/#/benchmarks/wordnet', KEY);
    await page.locator('[data-chart^="Accuracy"] svg').first().waitFor();
    assert.ok(await page.locator('tr.lift').count() >= 2, 'LiFT rows are highlighted');
    await page.getByLabel('Measure').selectOption('nll');
    await page.locator('[data-chart^="NLL"] svg').first().waitFor();
    await shot(page, 'benchmarks');
    await done(page);
  });

  it('passes the axe-core WCAG 2.1 A/AA checks on every page, at desktop and phone width', async () => {
    const prior = (await api('GET', '/v1/priors?name=lift/console-zoo')).items[0];
    const adapter = (await api('GET', '/v1/adapters?task_id=console-csv&method=lift-map')).items[0];
    const job = (await api('GET', '/v1/jobs?kind=train-prior&status=succeeded')).items[0];
    const paths = [
      '/#/registry/base-models', '/#/registry/tasks', '/#/registry/tasks/console-csv', '/#/registry/zoos/console-zoo',
      `/#/registry/priors/${prior.id}`, `/#/registry/adapters/${adapter.id}`, '/#/new-task', '/#/compare?task=console-csv',
      '/#/predict', '/#/jobs', `/#/jobs/${job.id}`, '/#/benchmarks/wordnet',
    ];
    const found: string[] = [];
    for (const [width, height] of [[1280, 800], [390, 844]]) {
      const page = await open('/#/registry/base-models', KEY);
      await page.setViewportSize({ width, height });
      for (const path of paths) {
        await page.goto(server.url + path);
        await page.locator('main h1').first().waitFor();
        // Every read has answered and every chart is drawn before the page is checked.
        await page.waitForFunction(() => !document.querySelector('main')?.textContent?.includes('Loading…')
          && [...document.querySelectorAll('[data-chart]')].every((c) => c.querySelector('svg')));
        if (!(await page.evaluate(() => 'axe' in window))) await page.addScriptTag({ content: axe.source });
        const violations = await page.evaluate(async () => {
          const r = await (window as unknown as { axe: typeof axe }).axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } });
          return r.violations.map((v) => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | ')}`);
        });
        found.push(...violations.map((v) => `${width}px ${path}: ${v}`));
      }
      await done(page);
    }
    assert.deepEqual(found, []);
  });

  it('fits a phone-width screen without sideways scrolling', async () => {
    const page = await open('/#/registry/tasks', KEY);
    await page.setViewportSize({ width: 390, height: 844 });
    await page.getByRole('link', { name: 'console-csv' }).waitFor();
    assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), 'no horizontal overflow');
    await shot(page, 'phone');
    await done(page);
  });
});
