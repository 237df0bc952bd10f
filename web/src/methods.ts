/**
 * Method facts as the server reports them (GET /v1/methods): grouped by family for pickers and
 * tables. The console names no method itself; a server without families shows one group.
 */
import { get } from './api.ts';
import type { Items, MethodInfo } from './types.ts';

export const FAMILY_TITLES: Readonly<Record<string, string>> = {
  frozen: 'Frozen backbone', 'fine-tuning': 'Fine-tuning', 'meta-learned': 'Meta-learned', lift: 'LiFT',
};
const FAMILY_ORDER = ['frozen', 'fine-tuning', 'meta-learned', 'lift'];

let cached: Promise<MethodInfo[]> | null = null;

export function loadMethods(): Promise<MethodInfo[]> {
  cached ??= get<Items<MethodInfo>>('v1/methods').then((r) => r.items).catch((err) => { cached = null; throw err; });
  return cached;
}

export interface MethodGroup { readonly family: string; readonly title: string; readonly methods: MethodInfo[] }

export function groupMethods(methods: readonly MethodInfo[]): MethodGroup[] {
  const families = [...new Set(methods.map((m) => m.family ?? 'methods'))]
    .sort((a, b) => (FAMILY_ORDER.indexOf(a) + 1 || 99) - (FAMILY_ORDER.indexOf(b) + 1 || 99));
  return families.map((family) => ({
    family, title: FAMILY_TITLES[family] ?? (family === 'methods' ? 'Methods' : family),
    methods: methods.filter((m) => (m.family ?? 'methods') === family),
  }));
}

/** The full display name the server gives, else the method's name. */
export const methodLabel = (m: MethodInfo | undefined, name: string): string => m?.label ?? name;
