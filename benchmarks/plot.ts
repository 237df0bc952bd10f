/**
 * Charts for reports, written as PNG: a Vega-Lite spec is compiled and rendered headless to SVG
 * by vega, then rasterised by resvg (no browser, no canvas native module).
 */
import * as vega from 'vega';
import * as vl from 'vega-lite';
import { Resvg } from '@resvg/resvg-js';

export interface BarRow {
  readonly group: string; // e.g. "5-shot"
  readonly name: string; // e.g. a method's full name
  readonly value: number;
  readonly low: number;
  readonly high: number;
  /** The bar's colour (one per name: the caller keeps it consistent). */
  readonly colour: string;
  /** Outlined bar and bold label (LiFT's rows). */
  readonly highlight?: boolean;
}

export interface LinePoint {
  readonly series: string;
  readonly x: number;
  readonly y: number;
}

async function renderPng(spec: vl.TopLevelSpec): Promise<Uint8Array> {
  const view = new vega.View(vega.parse(vl.compile(spec).spec), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  return new Resvg(svg, { background: 'white', fitTo: { mode: 'zoom', value: 2 } }).render().asPng();
}

/** Grouped bars with 95% confidence intervals, one panel per group; highlighted rows outlined and bold. */
export function plotBars(title: string, yTitle: string, rows: readonly BarRow[]): Promise<Uint8Array> {
  const values = rows.map((r) => ({ ...r, highlight: r.highlight === true }));
  const names = [...new Set(rows.map((r) => r.name))];
  const colourOf = new Map(rows.map((r) => [r.name, r.colour]));
  const bold = [...new Set(rows.filter((r) => r.highlight).map((r) => r.name))];
  const low = Math.min(...rows.map((r) => r.low));
  const domainMin = Math.max(0, Math.floor((low - 5) / 5) * 5);
  const x = {
    field: 'name', type: 'nominal', sort: names, title: null,
    axis: { labelAngle: -45, labelLimit: 480, labelFontWeight: { condition: { test: `indexof(${JSON.stringify(bold)}, datum.value) >= 0`, value: 'bold' }, value: 'normal' } },
  } as const;
  const y = { type: 'quantitative' as const, title: yTitle, scale: { domain: [domainMin, 100], clamp: true } };
  return renderPng({
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    data: { values },
    facet: { column: { field: 'group', type: 'nominal', title: null, sort: [...new Set(rows.map((r) => r.group))] } },
    spec: {
      width: Math.max(160, 22 * names.length),
      height: 220,
      layer: [
        {
          mark: { type: 'bar', clip: true },
          encoding: {
            x, y: { ...y, field: 'value' },
            color: { field: 'name', type: 'nominal', legend: null, scale: { domain: names, range: names.map((n) => colourOf.get(n)!) } },
            stroke: { condition: { test: 'datum.highlight', value: '#000' }, value: null },
            strokeWidth: { condition: { test: 'datum.highlight', value: 2.5 }, value: 0 },
          },
        },
        { mark: 'errorbar', encoding: { x, y: { ...y, field: 'low' }, y2: { field: 'high' } } },
      ],
    },
  } as vl.TopLevelSpec);
}

/** Lines, one per series (e.g. training log-likelihood against step). */
export function plotLines(title: string, xTitle: string, yTitle: string, points: readonly LinePoint[]): Promise<Uint8Array> {
  return renderPng({
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    width: 420,
    height: 240,
    data: { values: points.map((p) => ({ ...p })) },
    mark: 'line',
    encoding: {
      x: { field: 'x', type: 'quantitative', title: xTitle },
      y: { field: 'y', type: 'quantitative', title: yTitle, scale: { zero: false } },
      color: { field: 'series', type: 'nominal', title: null },
    },
  });
}
