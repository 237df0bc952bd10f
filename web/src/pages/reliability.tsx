/**
 * Reliability diagram of one compared method: its queries binned by confidence (max probability),
 * accuracy per bin against the diagonal of perfect calibration, and the expected calibration
 * error. The bins come with the comparison (service/compare.ts, the same code as the reports' ECE).
 */
import { Chart } from '../chart.tsx';
import type { Calibration } from '../types.ts';
import { num, pct } from '../ui.tsx';

export function ReliabilityDiagram({ calibration, queries, title }: { calibration: Calibration; queries: number; title: string }) {
  const values = calibration.bins;
  return (
    <div class="grid2 reliability">
      <Chart label={`${title}: accuracy against confidence per bin, expected calibration error ${num(calibration.ece)}`} spec={{
        $schema: 'https://vega.github.io/schema/vega-lite/v6.json', width: 'container', height: 240, title,
        layer: [
          { data: { values }, mark: { type: 'rect', color: '#1f4e79', opacity: 0.85, stroke: '#fff' }, encoding: {
            x: { field: 'lo', type: 'quantitative', scale: { domain: [0, 1] }, title: 'confidence (max probability)' }, x2: { field: 'hi' },
            y: { field: 'accuracy', type: 'quantitative', scale: { domain: [0, 1] }, title: 'accuracy in bin' }, y2: { datum: 0 },
            tooltip: [{ field: 'lo', title: 'from', format: '.1f' }, { field: 'hi', title: 'to', format: '.1f' }, { field: 'accuracy', format: '.1%' }, { field: 'confidence', format: '.1%' }, { field: 'count' }],
          } },
          { data: { values: [{ x: 0, y: 0 }, { x: 1, y: 1 }] }, mark: { type: 'line', color: '#d6006f', strokeDash: [5, 4] }, encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'y', type: 'quantitative' } } },
        ],
      } as never} />
      <div>
        <p>Expected calibration error: <strong data-ece>{num(calibration.ece)}</strong> over {queries} queries. Bars below the dashed diagonal: over-confident; above: under-confident.</p>
        <table>
          <thead><tr><th>Confidence</th><th class="num">Queries</th><th class="num">Mean confidence</th><th class="num">Accuracy</th></tr></thead>
          <tbody>{values.map((b) => <tr key={b.lo}><td>{b.lo.toFixed(1)}–{b.hi.toFixed(1)}</td><td class="num">{b.count}</td><td class="num">{pct(b.confidence)}</td><td class="num">{pct(b.accuracy)}</td></tr>)}</tbody>
        </table>
      </div>
    </div>
  );
}
