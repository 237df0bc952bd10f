/**
 * Reliability diagram: queries binned by confidence (max probability), accuracy per bin against
 * the diagonal of perfect calibration, with the expected calibration error. Bins and ECE come from
 * benchmarks/metrics.ts, the same code the benchmark reports use.
 */
import { calibrationBins, expectedCalibrationError } from '../../../benchmarks/metrics.ts';
import { post } from '../api.ts';
import { Chart } from '../chart.tsx';
import type { Example, Prediction, Predictions } from '../types.ts';
import { num, pct } from '../ui.tsx';

const BINS = 10;
/** Inputs per predict request (the server's default limit is far above). */
const CHUNK = 64;

/** Predictions for examples, in order, in chunks. */
export async function predictAll(adapter: Record<string, unknown>, examples: readonly Example[]): Promise<Prediction[]> {
  const out: Prediction[] = [];
  for (let i = 0; i < examples.length; i += CHUNK) {
    const inputs = examples.slice(i, i + CHUNK).map((e) => (e.text !== undefined ? { text: e.text } : { image_base64: e.image_base64 }));
    out.push(...(await post<Predictions>('v1/predict', { adapter, inputs })).predictions);
  }
  return out;
}

export function ReliabilityDiagram({ probs, labels, title }: { probs: number[][]; labels: number[]; title: string }) {
  const bins = calibrationBins(probs, labels, BINS);
  const ece = expectedCalibrationError(probs, labels, BINS);
  const values = bins.filter((b) => b.count > 0).map((b) => ({ lo: b.lo, hi: b.hi, accuracy: b.accuracy, confidence: b.confidence, count: b.count }));
  return (
    <div class="grid2 reliability">
      <Chart label={`${title}: accuracy against confidence per bin, expected calibration error ${num(ece)}`} spec={{
        $schema: 'https://vega.github.io/schema/vega-lite/v6.json', width: 'container', height: 240, title,
        layer: [
          { data: { values }, mark: { type: 'bar', color: '#1f4e79', opacity: 0.85 }, encoding: {
            x: { field: 'lo', type: 'quantitative', scale: { domain: [0, 1] }, title: 'confidence (max probability)' }, x2: { field: 'hi' },
            y: { field: 'accuracy', type: 'quantitative', scale: { domain: [0, 1] }, title: 'accuracy in bin' },
            tooltip: [{ field: 'lo', title: 'from', format: '.1f' }, { field: 'hi', title: 'to', format: '.1f' }, { field: 'accuracy', format: '.1%' }, { field: 'confidence', format: '.1%' }, { field: 'count' }],
          } },
          { data: { values: [{ x: 0, y: 0 }, { x: 1, y: 1 }] }, mark: { type: 'line', color: '#c2185b', strokeDash: [5, 4] }, encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'y', type: 'quantitative' } } },
        ],
      } as never} />
      <div>
        <p>Expected calibration error: <strong data-ece>{num(ece)}</strong> over {labels.length} queries ({BINS} bins). Bars below the dashed diagonal: over-confident; above: under-confident.</p>
        <table>
          <thead><tr><th>Confidence</th><th class="num">Queries</th><th class="num">Mean confidence</th><th class="num">Accuracy</th></tr></thead>
          <tbody>{values.map((b) => <tr key={b.lo}><td>{b.lo.toFixed(1)}–{b.hi.toFixed(1)}</td><td class="num">{b.count}</td><td class="num">{pct(b.confidence)}</td><td class="num">{pct(b.accuracy)}</td></tr>)}</tbody>
        </table>
      </div>
    </div>
  );
}
