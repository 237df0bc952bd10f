/**
 * Method facts as the server reports them (GET /v1/methods): grouped by family for pickers and
 * tables. The console names no method itself: a method's family is the one the server reports,
 * else what its needs say (a prior: LiFT; meta-training: meta-learned; neither: frozen or
 * fine-tuned from scratch).
 */
import { get } from './api.ts';
import type { Items, MethodInfo } from './types.ts';

export const FAMILY_TITLES: Readonly<Record<string, string>> = {
  frozen: 'Frozen backbone', 'fine-tuning': 'Fine-tuning', 'from-scratch': 'Frozen or fine-tuned (no meta-training)',
  'meta-learned': 'Meta-learned', lift: 'LiFT',
};
const FAMILY_ORDER = ['frozen', 'fine-tuning', 'from-scratch', 'meta-learned', 'lift'];

export function familyOf(m: MethodInfo): string {
  return m.family ?? (m.needs_prior ? 'lift' : m.needs_meta_training ? 'meta-learned' : 'from-scratch');
}

let cached: Promise<MethodInfo[]> | null = null;

export function loadMethods(): Promise<MethodInfo[]> {
  cached ??= get<Items<MethodInfo>>('v1/methods').then((r) => r.items).catch((err) => { cached = null; throw err; });
  return cached;
}

export interface MethodGroup { readonly family: string; readonly title: string; readonly methods: MethodInfo[] }

export function groupMethods(methods: readonly MethodInfo[]): MethodGroup[] {
  const families = [...new Set(methods.map(familyOf))]
    .sort((a, b) => (FAMILY_ORDER.indexOf(a) + 1 || 99) - (FAMILY_ORDER.indexOf(b) + 1 || 99));
  return families.map((family) => ({ family, title: FAMILY_TITLES[family] ?? family, methods: methods.filter((m) => familyOf(m) === family) }));
}

/** The full name the server gives, with the short name the API takes; else the name. */
export const methodLabel = (m: MethodInfo | undefined, name: string): string => (m?.title && m.title !== name ? `${m.title} (${name})` : name);
