/**
 * The values a list route's query parameters accept, read from the server's own /openapi.json
 * (e.g. the job kinds and statuses of GET /v1/jobs), so filters offer exactly what the server
 * knows, including kinds added later, and the console lists none itself.
 */
import { get } from './api.ts';

interface OpenApi { paths: Record<string, Record<string, { parameters?: { name: string; in: string; schema?: { enum?: unknown[] } }[] }>> }

let spec: Promise<OpenApi> | null = null;

/** Parameter name -> accepted values, for the enum-typed query parameters of `GET path`. */
export async function queryChoices(path: string): Promise<Record<string, string[]>> {
  spec ??= get<OpenApi>('openapi.json').catch((err) => { spec = null; throw err; });
  const params = (await spec).paths[path]?.get?.parameters ?? [];
  return Object.fromEntries(params.filter((p) => p.in === 'query' && Array.isArray(p.schema?.enum)).map((p) => [p.name, (p.schema!.enum as unknown[]).map(String)]));
}
