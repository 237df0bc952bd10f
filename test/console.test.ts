/**
 * The web console end to end, in real headless Chromium against the real server (ephemeral port,
 * temporary SQLite registry, real ONNX backbones, an API key configured).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { startServer, type RunningServer } from '../server/start.ts';
import { DEFAULT_CONFIG } from '../service/config.ts';
import { ensureConsoleBuilt, launchBrowser, type Browser } from './browser.ts';

const KEY = 'console-test-key';
let server: RunningServer;
let browser: Browser;
let dir: string;

async function open(path = '/'): Promise<Page> {
  const page = await browser.context.newPage();
  page.setDefaultTimeout(15_000);
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  (page as unknown as { jsErrors: string[] }).jsErrors = errors;
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
    server = await startServer({ ...DEFAULT_CONFIG, port: 0, registryUrl: `sqlite:${join(dir, 'registry.sqlite')}`, apiKey: KEY }, { log: () => {} });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves the console at / and browses the registry without a key', async () => {
    const res = await fetch(server.url + '/');
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /text\/html/);
    const page = await open('/#/registry/base-models');
    await page.getByRole('heading', { name: 'Registry' }).waitFor();
    const table = page.getByRole('table');
    await table.getByText('text', { exact: true }).waitFor();
    await table.getByText('image', { exact: true }).waitFor();
    assert.deepEqual((page as unknown as { jsErrors: string[] }).jsErrors, []);
    await page.close();
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
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'api-key');
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
    const task = await (await fetch(`${server.url}/v1/tasks/console-csv`)).json() as { labels: string[]; example_counts: Record<string, number> };
    assert.deepEqual(task.labels, ['animals', 'food', 'sports']);
    assert.equal(task.example_counts.query, 3);
    await page.close();
  });
});
