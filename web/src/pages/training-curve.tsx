/**
 * A LiFT training curve: the windowed mean log-likelihood of the SGLD-Gibbs chain per step, with
 * the burn-in shaded and its end marked, and why the curve may fall.
 */
import { Chart } from '../chart.tsx';

export interface TracePoint { readonly step: number; readonly logLik: number }

export function TrainingCurve({ points, burnIn, label }: { points: readonly TracePoint[]; burnIn: number | null; label: string }) {
  const values = points.map((p) => ({ step: p.step, loglik: p.logLik }));
  const layers: object[] = [
    { data: { values }, mark: { type: 'line', color: '#1f4e79', point: values.length < 60 }, encoding: {
      x: { field: 'step', type: 'quantitative', title: 'SGLD-Gibbs step' },
      y: { field: 'loglik', type: 'quantitative', title: 'mean log p(D_a | θ_a) per window', scale: { zero: false } },
      tooltip: [{ field: 'step' }, { field: 'loglik', format: '.4f', title: 'log-likelihood' }],
    } },
  ];
  if (burnIn !== null && burnIn > 0) {
    layers.unshift(
      { data: { values: [{ from: 0, to: burnIn }] }, mark: { type: 'rect', color: '#999', opacity: 0.18 }, encoding: { x: { field: 'from', type: 'quantitative' }, x2: { field: 'to' } } },
      { data: { values: [{ at: burnIn, text: `burn-in ends (step ${burnIn})` }] }, layer: [
        { mark: { type: 'rule', color: '#444', strokeDash: [4, 3] }, encoding: { x: { field: 'at', type: 'quantitative' } } },
        { mark: { type: 'text', align: 'left', dx: 4, dy: 4, baseline: 'top', y: 0, color: '#222' }, encoding: { x: { field: 'at', type: 'quantitative' }, text: { field: 'text' } } },
      ] },
    );
  }
  return (
    <>
      <Chart label={label} spec={{ $schema: 'https://vega.github.io/schema/vega-lite/v6.json', width: 'container', height: 220, layer: layers } as never} />
      <p class="note">Shaded: burn-in, whose samples are discarded; the samples kept after it update the mixture prior by online EM.
        The log-likelihood can fall while the chain mixes: the task adapters θᵢ start fitted to their own data, and SGLD-Gibbs pulls
        them toward the shared φ and adds noise, trading training fit for a prior that transfers to new tasks.</p>
    </>
  );
}
