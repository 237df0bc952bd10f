/**
 * A Vega-Lite chart as a Preact component. vega and vega-lite are loaded on first use (a separate
 * bundle chunk), rendered as SVG with an accessible description; tooltips come from Vega's own
 * handler. Every chart in the console sits next to a table of the same numbers.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import type { TopLevelSpec } from 'vega-lite';

/** Method colours and naming shared by every chart: one colour per method, LiFT highlighted. */
export const LIFT_COLOR = '#c2185b';
const PALETTE = [
  '#1f77b4', '#2ca02c', '#9467bd', '#8c564b', '#17becf', '#bcbd22', '#7f7f7f', '#ff7f0e',
  '#393b79', '#637939', '#8c6d31', '#843c39', '#7b4173', '#3182bd', '#31a354', '#756bb1', '#636363', '#e6550d',
];
/** LiFT's methods in shades of the highlight colour, every other method a palette colour of its own. */
export function methodColors(methods: readonly string[]): { domain: string[]; range: string[] } {
  const lift = ['#c2185b', '#ad1457', '#880e4f', '#e91e63'];
  let l = 0, o = 0;
  const range = methods.map((m) => (isLift(m) ? lift[l++ % lift.length] : PALETTE[o++ % PALETTE.length]));
  return { domain: [...methods], range };
}
export const isLift = (method: string): boolean => /^lift\b/i.test(method);

export function Chart({ spec, label, class: cls }: { spec: TopLevelSpec; label: string; class?: string }) {
  const host = useRef<HTMLDivElement>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let finalize: (() => void) | null = null;
    let cancelled = false;
    (async () => {
      const [vega, vl] = await Promise.all([import('vega'), import('vega-lite')]);
      if (cancelled || !host.current) return;
      const compiled = vl.compile({ ...spec, description: label } as TopLevelSpec).spec;
      const view = new vega.View(vega.parse(compiled), { renderer: 'svg', container: host.current, hover: true });
      finalize = () => view.finalize();
      await view.runAsync();
    })().catch((err: Error) => { if (!cancelled) setError(err.message); });
    return () => { cancelled = true; finalize?.(); };
  }, [JSON.stringify(spec)]); // eslint-disable-line react-hooks/exhaustive-deps
  return (
    <figure class={`chart ${cls ?? ''}`}>
      <div ref={host} role="img" aria-label={label} data-chart={label} />
      {error && <p class="error" role="alert">chart: {error}</p>}
    </figure>
  );
}
