/**
 * The curl examples of README.md and docs/*.md, run as written (with curl, from the repository
 * root) against a real server on a temporary registry holding a small stored prior: each file's
 * examples run in order on a fresh server, and each must answer 2xx with the JSON the docs
 * describe. So the documentation cannot drift from the behaviour.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { startServer, type RunningServer } from '../server/start.ts';
import { DEFAULT_CONFIG } from '../server/config.ts';
import { createLogger } from '../service/log.ts';
import { insertTestPrior } from './test-prior.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const DOCS = ['README.md', ...readdirSync(path.join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

/**
 * The curl commands of a Markdown file's sh blocks: a line starting with `curl`, plus the lines
 * that continue it (after a trailing `\\`, or inside a quote it opened). Trailing comments go.
 */
export function curlExamples(markdown: string): string[] {
  const blocks = [...markdown.matchAll(/^```(?:sh|bash|shell)\n([\s\S]*?)^```/gm)].map((m) => m[1]);
  const commands: string[] = [];
  for (const block of blocks) {
    let current: string[] | null = null;
    const close = () => { if (current) commands.push(current.join('\n')); current = null; };
    for (const line of block.split('\n')) {
      const text = current?.join('\n') ?? '';
      const continues = current !== null && (text.endsWith('\\') || (text.split("'").length - 1) % 2 === 1);
      if (continues) { current!.push(line); continue; }
      close();
      if (/^curl\s/.test(line)) current = [line];
    }
    close();
  }
  return commands.map((c) => c.replace(/[ \t]+#[^'"\n]*$/, ''));
}

/** Runs one example with the documented host replaced by the test server's; returns status and body. */
async function run(command: string, url: string): Promise<{ status: number; body: string }> {
  const script = `curl() { command curl -sS -w '\\n%{http_code}' "$@"; }\n${command.replaceAll('localhost:8080', url.replace(/^http:\/\//, ''))}`;
  const { stdout } = await promisify(execFile)('bash', ['-e', '-c', script], { cwd: ROOT, timeout: 60_000 });
  const at = stdout.lastIndexOf('\n');
  return { status: Number(stdout.slice(at + 1)), body: stdout.slice(0, at) };
}

for (const file of DOCS) {
  const examples = curlExamples(readFileSync(path.join(ROOT, file), 'utf8'));
  if (examples.length === 0) continue;
  describe(`curl examples of ${file}`, () => {
    let server: RunningServer;
    let dir: string;
    before(async () => {
      dir = mkdtempSync(path.join(tmpdir(), 'lift-docs-'));
      server = await startServer({ ...DEFAULT_CONFIG, port: 0, registryUrl: `sqlite:${path.join(dir, 'registry.sqlite')}` }, { logger: createLogger('silent') });
      await insertTestPrior(server.context.runtime.store);
    });
    after(async () => {
      await server?.close();
      rmSync(dir, { recursive: true, force: true });
    });
    examples.forEach((command, i) => {
      it(`${i + 1}: ${command.split('\n')[0].slice(0, 100)}`, async () => {
        const { status, body } = await run(command, server.url);
        assert.ok(status >= 200 && status < 300, `status ${status}: ${body.slice(0, 500)}`);
        assert.doesNotThrow(() => JSON.parse(body), `a JSON answer, got ${body.slice(0, 200)}`);
      });
    });
  });
}

describe('curl example extraction', () => {
  it('finds each command with its continuation lines, and nothing else', () => {
    const md = '```sh\n# a comment\ncurl -s a -d \'{\n  "x": 1}\'\nnpm test\ncurl b \\\n  -H x   # note\n```\n';
    assert.deepEqual(curlExamples(md), ['curl -s a -d \'{\n  "x": 1}\'', 'curl b \\\n  -H x']);
  });
});

describe('documentation text', () => {
  it('holds no unresolved merge markers', () => {
    for (const file of DOCS) {
      const marker = /^(<{7}|={7}|>{7})( |$)/m.exec(readFileSync(path.join(ROOT, file), 'utf8'));
      assert.equal(marker, null, `${file} has a merge marker: ${marker?.[0]}`);
    }
  });
});
