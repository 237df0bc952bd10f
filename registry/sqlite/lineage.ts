/**
 * Lineage: every ancestor of an adapter, found breadth-first over parent links. Parents are
 * other adapters (e.g. the zoo members a fused adapter averaged) and the prior an adapter was
 * fitted under. Parent links are written once with the child, so the graph is acyclic.
 */
import { NotFoundError } from '../errors.ts';
import type { Lineage, LineageEdge, LineageNode } from '../types.ts';
import type { StoreContext } from './context.ts';

interface NodeRow { id: string; name: string; version: number; content_hash: string; prior_id: string | null }

export function getLineage(ctx: StoreContext, adapterId: string): Lineage {
  const adapterStmt = ctx.db.prepare('SELECT id, name, version, content_hash, prior_id FROM adapters WHERE id = ?');
  const priorStmt = ctx.db.prepare('SELECT id, name, version, content_hash FROM priors WHERE id = ?');
  const parentsStmt = ctx.db.prepare('SELECT parent_id FROM adapter_parents WHERE child_id = ? ORDER BY ord');
  const root = adapterStmt.get(adapterId) as NodeRow | undefined;
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
      for (const { parent_id } of parentsStmt.all(row.id) as { parent_id: string }[]) {
        edges.push({ childId: row.id, parentId: parent_id, parentKind: 'adapter' });
        if (seen.has(parent_id)) continue;
        seen.add(parent_id);
        next.push({ row: adapterStmt.get(parent_id) as NodeRow, depth: depth + 1 });
      }
      if (row.prior_id !== null) {
        edges.push({ childId: row.id, parentId: row.prior_id, parentKind: 'prior' });
        if (!seen.has(row.prior_id)) {
          seen.add(row.prior_id);
          const p = priorStmt.get(row.prior_id) as NodeRow;
          nodes.push({ kind: 'prior', id: p.id, name: p.name, version: p.version, contentHash: p.content_hash, depth: depth + 1 });
        }
      }
    }
    frontier = next;
  }
  return { nodes, edges };
}
