/**
 * A Vega-Lite chart as a Preact component. vega and vega-lite are loaded on first use (a separate
 * bundle chunk), rendered as SVG with an accessible description; tooltips come from Vega's own
 * handler. Every chart in the console sits next to a table of the same numbers.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import type { TopLevelSpec } from 'vega-lite';

/**
 * Method colours shared by every chart: one colour per method, LiFT highlighted. LiFT's methods
 * take the only magentas (and a black outline where drawn); the others take distinct hues
 * (Tableau 20 without its pinks and reds), dark ones first.
 */
const LIFT_COLORS = ['#d6006f', '#7a0045', '#ff5fa2', '#a3005a'];
const OTHER_COLORS = [
  '#1f77b4', '#ff7f0e', '#2ca02c', '#9467bd', '#8c564b', '#17becf', '#bcbd22', '#7f7f7f',
  '#aec7e8', '#ffbb78', '#98df8a', '#c5b0d5', '#c49c94', '#9edae5', '#dbdb8d', '#c7c7c7',
];

export function methodColors(methods: readonly { label: string; lift: boolean }[]): { domain: string[]; range: string[] } {
  let l = 0, o = 0;
  const range = methods.map((m) => (m.lift ? LIFT_COLORS[l++ % LIFT_COLORS.length] : OTHER_COLORS[o++ % OTHER_COLORS.length]));
  return { domain: methods.map((m) => m.label), range };
}
/** For a method the server does not describe (an old report's row): LiFT by its name. */
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
