/**
 * Every command-line script answers `--help`: exit 0, a commander "Usage:" line, kebab-case
 * flags only, and no work before arguments are parsed (it returns within the time limit). Every
 * script under scripts/ is also an npm script of package.json, so `npm run` lists them all.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';

const ROOT = path.resolve(import.meta.dirname, '..');
const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
/** Modules shared by the scripts, not commands of their own. */
const LIBRARIES = new Set(['cli-options.ts']);

/** npm script name -> the scripts/*.ts file it runs. */
const COMMANDS = Object.entries(pkg.scripts).flatMap(([name, command]) => {
  const file = /\btsx (scripts\/[\w-]+\.ts)\b/.exec(command)?.[1];
  return file ? [{ name, file }] : [];
});

describe('command-line scripts', () => {
  it('lists every script under scripts/ in package.json', () => {
    const files = readdirSync(path.join(ROOT, 'scripts')).filter((f) => f.endsWith('.ts') && !LIBRARIES.has(f));
    const listed = new Set(COMMANDS.map((c) => path.basename(c.file)));
    assert.deepEqual(files.filter((f) => !listed.has(f)), [], 'scripts without an npm script');
  });

  for (const { name, file } of COMMANDS) {
    it(`npm run ${name} -- --help`, async () => {
      const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', file, '--help'], {
        cwd: ROOT, timeout: 60_000, env: { ...process.env, NODE_TEST_CONTEXT: undefined },
      });
      assert.match(stdout, /^Usage: /m, 'commander usage');
      const flags = [...stdout.matchAll(/(?<![\w-])--[\w-]+/g)].map((m) => m[0]);
      assert.ok(flags.includes('--help'));
      assert.deepEqual(flags.filter((f) => !/^--[a-z0-9]+(-[a-z0-9]+)*$/.test(f)), [], 'kebab-case flags');
    });
  }
});
