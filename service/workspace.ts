/**
 * The registry and backbones a command works with, opened from the embedded defaults: the SQLite
 * file `data/registry.sqlite` (or $LIFT_REGISTRY) and the models built into `models/`.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { SqliteRegistryStore } from '../registry/sqlite-store.ts';
import type { RegistryStore } from '../registry/store.ts';
import { Backbones, DEFAULT_MODELS_DIR } from './backbones.ts';

export const DEFAULT_REGISTRY_PATH = path.resolve(import.meta.dirname, '..', 'data', 'registry.sqlite');

export interface Workspace {
  readonly store: RegistryStore;
  readonly backbones: Backbones;
  close(): Promise<void>;
}

export async function openWorkspace(options: { registryPath?: string; modelsDir?: string } = {}): Promise<Workspace> {
  const registryPath = options.registryPath ?? process.env.LIFT_REGISTRY ?? DEFAULT_REGISTRY_PATH;
  mkdirSync(path.dirname(path.resolve(registryPath)), { recursive: true });
  const store = SqliteRegistryStore.open(registryPath);
  const backbones = new Backbones(store, options.modelsDir ?? process.env.LIFT_MODELS_DIR ?? DEFAULT_MODELS_DIR);
  return {
    store,
    backbones,
    async close() {
      await backbones.dispose();
      store.close();
    },
  };
}
