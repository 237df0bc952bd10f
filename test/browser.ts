/**
 * Real headless Chromium for the console's end-to-end tests: Debian's /usr/bin/chromium driven by
 * playwright-core (never a browser download), with a fresh profile directory and the flags this
 * offline, root-run machine needs. Also builds the web bundle when it is missing or older than
 * its sources, so `npm test` works on a fresh clone.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { CONSOLE_DIR } from '../server/console.ts';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const WEB = path.resolve(import.meta.dirname, '..', 'web');

export const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

function newestMtime(p: string): number {
  const st = statSync(p);
  if (!st.isDirectory()) return st.mtimeMs;
  return Math.max(st.mtimeMs, ...readdirSync(p).map((f) => newestMtime(path.join(p, f))));
}

/** Runs `vite build` unless web/dist is newer than every source file. */
export async function ensureConsoleBuilt(): Promise<void> {
  const index = path.join(CONSOLE_DIR, 'index.html');
  const sources = Math.max(newestMtime(path.join(WEB, 'src')), newestMtime(path.join(WEB, 'index.html')), newestMtime(path.join(WEB, 'vite.config.ts')));
  if (existsSync(index) && statSync(index).mtimeMs > sources) return;
  const { build } = await import('vite');
  await build({ configFile: path.join(WEB, 'vite.config.ts'), logLevel: 'warn' });
}

export interface Browser { readonly context: BrowserContext; close(): Promise<void> }

/** A browser with a new, empty profile (launchPersistentContext passes it as --user-data-dir). */
export async function launchBrowser(viewport = { width: 1280, height: 800 }): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: apt-get install -y chromium (.ci/run does)`);
  const profile = mkdtempSync(path.join(tmpdir(), 'lift-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, viewport, timeout: 30_000,
  });
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
