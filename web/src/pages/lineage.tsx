/**
 * An adapter's lineage as a left-to-right graph: the zoo and prior it descends from on the left,
 * parent adapters in between, the adapter on the right. Nodes are links to their pages, so the
 * graph is navigable by keyboard; a list of the same edges follows for screen readers.
 */
import { href } from '../router.ts';
import type { Lineage } from '../types.ts';

interface Node { key: string; kind: 'adapter' | 'prior' | 'zoo'; label: string; link: string; column: number }

const W = 190, H = 44, GAP_X = 60, GAP_Y = 18;

export function LineageGraph({ lineage, adapterId, zoo }: { lineage: Lineage; adapterId: string; zoo: string | null }) {
  const maxDepth = Math.max(0, ...lineage.nodes.map((n) => n.depth));
  const hasZoo = zoo !== null && lineage.nodes.some((n) => n.kind === 'prior');
  const offset = hasZoo ? 1 : 0;
  const nodes: Node[] = lineage.nodes.map((n) => ({
    key: n.id, kind: n.kind, label: `${n.name} v${n.version}`,
    link: n.kind === 'prior' ? href('registry', 'priors', n.id) : href('registry', 'adapters', n.id),
    column: maxDepth - n.depth + offset,
  }));
  const edges = lineage.edges.map((e) => ({ from: e.parent_id, to: e.child_id }));
  if (hasZoo) {
    nodes.push({ key: `zoo:${zoo}`, kind: 'zoo', label: zoo!, link: href('registry', 'zoos', zoo!), column: 0 });
    for (const p of lineage.nodes.filter((n) => n.kind === 'prior')) edges.push({ from: `zoo:${zoo}`, to: p.id });
  }
  const columns = new Map<number, Node[]>();
  for (const n of nodes) columns.set(n.column, [...(columns.get(n.column) ?? []), n]);
  const pos = new Map<string, { x: number; y: number }>();
  for (const [c, list] of columns) list.forEach((n, i) => pos.set(n.key, { x: c * (W + GAP_X), y: i * (H + GAP_Y) }));
  const width = Math.max(...[...columns.keys()].map((c) => (c + 1) * (W + GAP_X))) - GAP_X;
  const height = Math.max(...[...columns.values()].map((l) => l.length)) * (H + GAP_Y) - GAP_Y;
  const label = (key: string) => nodes.find((n) => n.key === key)?.label ?? key;
  return (
    <div class="lineage">
      <svg viewBox={`-2 -2 ${width + 4} ${height + 4}`} style={{ width: '100%', maxWidth: `${width + 4}px` }} role="group" aria-label="Lineage graph">
        <defs>
          <marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
            <path d="M 0 0 L 10 5 L 0 10 z" fill="#555" />
          </marker>
        </defs>
        {edges.map((e) => {
          const a = pos.get(e.from), b = pos.get(e.to);
          if (!a || !b) return null;
          return <line key={`${e.from}-${e.to}`} x1={a.x + W} y1={a.y + H / 2} x2={b.x} y2={b.y + H / 2} stroke="#555" stroke-width={1.5} marker-end="url(#arrow)" />;
        })}
        {nodes.map((n) => {
          const p = pos.get(n.key)!;
          return (
            // The link's name is its visible text, "kind label": a long label is squeezed into the box, never cut.
            <a key={n.key} href={n.link} class={`node node-${n.kind}${n.key === adapterId ? ' node-self' : ''}`}>
              <rect x={p.x} y={p.y} width={W} height={H} rx={6} />
              <text x={p.x + 8} y={p.y + 17}>
                <tspan class="kind">{n.kind}</tspan>{' '}
                <tspan x={p.x + 8} y={p.y + 34} {...(n.label.length > 26 ? { textLength: W - 16, lengthAdjust: 'spacingAndGlyphs' } : {})}>{n.label}</tspan>
              </text>
            </a>
          );
        })}
      </svg>
      <ul class="sr-only" aria-label="Lineage edges">
        {edges.map((e) => <li key={`${e.from}-${e.to}`}>{label(e.from)} → {label(e.to)}</li>)}
      </ul>
    </div>
  );
}
