/**
 * Method facts as the server reports them (GET /v1/methods): grouped by family for pickers and
 * tables. The console names no method and no family itself: families, their titles and their
 * order are the server's (the method table lists each family as one run, in display order).
 */
import { get } from './api.ts';
import type { Items, MethodInfo } from './types.ts';

export const familyOf = (m: MethodInfo): string => m.family;

let cached: Promise<MethodInfo[]> | null = null;

export function loadMethods(): Promise<MethodInfo[]> {
  cached ??= get<Items<MethodInfo>>('v1/methods').then((r) => r.items).catch((err) => { cached = null; throw err; });
  return cached;
}

export interface MethodGroup { readonly family: string; readonly title: string; readonly methods: MethodInfo[] }

/** Groups in the order the server lists the families. */
export function groupMethods(methods: readonly MethodInfo[]): MethodGroup[] {
  const families = [...new Set(methods.map(familyOf))];
  return families.map((family) => {
    const members = methods.filter((m) => familyOf(m) === family);
    return { family, title: members[0].family_title, methods: members };
  });
}

/** The full name the server gives, with the short name the API takes; else the name. */
export const methodLabel = (m: MethodInfo | undefined, name: string): string => (m?.title && m.title !== name ? `${m.title} (${name})` : name);
