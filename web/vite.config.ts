/**
 * Build of the web console: Preact pages bundled with Vega-Lite into web/dist, which the server
 * serves at `/` (server/console.ts). Relative asset paths, so the console also works behind a
 * path prefix; nothing is fetched from a CDN at run time.
 */
import { defineConfig } from 'vite';

export default defineConfig({
  root: import.meta.dirname,
  base: './',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: { outDir: 'dist', emptyOutDir: true, chunkSizeWarningLimit: 2000 },
  logLevel: 'warn',
});
