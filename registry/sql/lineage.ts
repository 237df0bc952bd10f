/**
 * Lineage: every ancestor of an adapter, found breadth-first over parent links. Parents are
 * other adapters (e.g. the zoo members a fused adapter averaged) and the prior an adapter was
 * fitted under. Parent links are written once with the child, so the graph is acyclic.
 */
import { NotFoundError } from '../errors.ts';
import type { Lineage, LineageEdge, LineageNode } from '../types.ts';
import type { StoreContext } from './connection.ts';

interface NodeRow { id: string; name: string; version: number; content_hash: string; prior_id: string | null }

export async function getLineage(ctx: StoreContext, adapterId: string): Promise<Lineage> {
  const adapterRow = (id: string) => ctx.sql.get<NodeRow>('SELECT id, name, version, content_hash, prior_id FROM adapters WHERE id = ?', [id]);
  const priorRow = (id: string) => ctx.sql.get<NodeRow>('SELECT id, name, version, content_hash FROM priors WHERE id = ?', [id]);
  const parentsOf = (id: string) => ctx.sql.all<{ parent_id: string }>('SELECT parent_id FROM adapter_parents WHERE child_id = ? ORDER BY ord', [id]);
  const root = await adapterRow(adapterId);
  if (!root) throw new NotFoundError('adapter', String(adapterId));

  const nodes: LineageNode[] = [];
  const edges: LineageEdge[] = [];
  const seen = new Set<string>();
  let frontier: { row: NodeRow; depth: number }[] = [{ row: root, depth: 0 }];
  seen.add(root.id);
  while (frontier.length > 0) {
    const next: typeof frontier = [];
    for (const { row, depth } of frontier) {
      nodes.push({ kind: 'adapter', id: row.id, name: row.name, version: row.version, contentHash: row.content_hash, depth });
      for (const { parent_id } of await parentsOf(row.id)) {
        edges.push({ childId: row.id, parentId: parent_id, parentKind: 'adapter' });
        if (seen.has(parent_id)) continue;
        seen.add(parent_id);
        next.push({ row: (await adapterRow(parent_id))!, depth: depth + 1 });
      }
      if (row.prior_id !== null) {
        edges.push({ childId: row.id, parentId: row.prior_id, parentKind: 'prior' });
        if (!seen.has(row.prior_id)) {
          seen.add(row.prior_id);
          const p = (await priorRow(row.prior_id))!;
          nodes.push({ kind: 'prior', id: p.id, name: p.name, version: p.version, contentHash: p.content_hash, depth: depth + 1 });
        }
      }
    }
    frontier = next;
  }
  return { nodes, edges };
}
