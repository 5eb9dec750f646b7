// Figures as SVG, rendered headless by vega-lite → vega (no browser, no canvas): loss curves and
// 2-D scatter plots over decision regions. Pixel figures (digits, filters) are PNG mosaics, in
// mosaic.ts. The spec builders are pure; writeFigure touches the file system and svgToPng uses
// resvg (a native module), so those two are for Node.
import { compile, type TopLevelSpec } from 'vega-lite';
import { parse, View } from 'vega';
import { Resvg } from '@resvg/resvg-js';
import { writeFileAtomic } from './atomic.js';

/** One named line of a line chart. */
export interface Series {
  readonly name: string;
  readonly x: readonly number[];
  readonly y: readonly number[];
}

/** A line chart (e.g. loss per epoch). */
export interface LineChart {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly series: readonly Series[];
  /** Logarithmic y axis (losses spanning decades). */
  readonly logY?: boolean;
  /** Draw the points as well as the lines. */
  readonly points?: boolean;
}

/** A labelled 2-D point. */
export interface LabelledPoint {
  readonly x: number;
  readonly y: number;
  readonly label: string;
}

/** A scatter plot, optionally over coloured decision regions and with straight lines. */
export interface ScatterChart {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly points: readonly LabelledPoint[];
  /** Decision regions on a grid: `classify(x, y)` gives the label of each cell's centre. */
  readonly regions?: {
    readonly xDomain: readonly [number, number];
    readonly yDomain: readonly [number, number];
    readonly resolution: number;
    readonly classify: (x: number, y: number) => string;
  };
  /** Extra lines (e.g. a fitted regression line). */
  readonly lines?: readonly Series[];
}

const WIDTH = 420;
const HEIGHT = 300;

/** The vega-lite spec of a line chart. */
export function lineChartSpec(chart: LineChart): TopLevelSpec {
  const values = chart.series.flatMap((s) =>
    s.x.map((x, i) => ({ series: s.name, x, y: s.y[i]! })).filter((d) => Number.isFinite(d.y)),
  );
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: chart.title,
    width: WIDTH,
    height: HEIGHT,
    data: { values },
    mark: { type: 'line', point: chart.points ?? false },
    encoding: {
      x: { field: 'x', type: 'quantitative', title: chart.xLabel },
      y: {
        field: 'y',
        type: 'quantitative',
        title: chart.yLabel,
        scale: chart.logY ? { type: 'log' } : { zero: false },
      },
      color: { field: 'series', type: 'nominal', title: null },
    },
  };
}

/** The vega-lite spec of a scatter plot over decision regions. */
export function scatterChartSpec(chart: ScatterChart): TopLevelSpec {
  const layers: NonNullable<Extract<TopLevelSpec, { layer: unknown }>['layer']> = [];
  const labels = [...new Set(chart.points.map((p) => p.label))].sort();
  const color = {
    field: 'label',
    type: 'nominal' as const,
    title: 'class',
    scale: { domain: labels },
  };
  if (chart.regions) {
    const { xDomain, yDomain, resolution, classify } = chart.regions;
    const dx = (xDomain[1] - xDomain[0]) / resolution;
    const dy = (yDomain[1] - yDomain[0]) / resolution;
    const cells = [];
    for (let i = 0; i < resolution; i++) {
      for (let j = 0; j < resolution; j++) {
        const x = xDomain[0] + i * dx;
        const y = yDomain[0] + j * dy;
        cells.push({ x, x2: x + dx, y, y2: y + dy, label: classify(x + dx / 2, y + dy / 2) });
      }
    }
    for (const c of cells) if (!labels.includes(c.label)) labels.push(c.label);
    layers.push({
      data: { values: cells },
      mark: { type: 'rect', opacity: 0.25 },
      encoding: {
        x: {
          field: 'x',
          type: 'quantitative',
          title: chart.xLabel,
          scale: { domain: [...xDomain] },
        },
        x2: { field: 'x2' },
        y: {
          field: 'y',
          type: 'quantitative',
          title: chart.yLabel,
          scale: { domain: [...yDomain] },
        },
        y2: { field: 'y2' },
        color,
      },
    });
  }
  layers.push({
    data: { values: chart.points.map((p) => ({ ...p })) },
    mark: { type: 'point', filled: true, size: 90, stroke: 'black', strokeWidth: 0.5 },
    encoding: {
      x: { field: 'x', type: 'quantitative', title: chart.xLabel },
      y: { field: 'y', type: 'quantitative', title: chart.yLabel },
      color,
      shape: { field: 'label', type: 'nominal', legend: null },
    },
  });
  for (const line of chart.lines ?? []) {
    layers.push({
      data: { values: line.x.map((x, i) => ({ x, y: line.y[i]!, series: line.name })) },
      mark: { type: 'line', color: 'black' },
      encoding: {
        x: { field: 'x', type: 'quantitative' },
        y: { field: 'y', type: 'quantitative' },
        strokeDash: { field: 'series', type: 'nominal', title: null },
      },
    });
  }
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: chart.title,
    width: WIDTH,
    height: HEIGHT,
    layer: layers,
  };
}

/** Render a vega-lite spec to an SVG string, headless. */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new View(parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Render a line chart to an SVG string. */
export function lineChartSvg(chart: LineChart): Promise<string> {
  return renderSvg(lineChartSpec(chart));
}

/** Render a scatter chart (with optional decision regions) to an SVG string. */
export function scatterChartSvg(chart: ScatterChart): Promise<string> {
  return renderSvg(scatterChartSpec(chart));
}

/** Rasterize an SVG string to PNG bytes on a white background (resvg, headless). */
export function svgToPng(svg: string, scale = 2): Uint8Array {
  const resvg = new Resvg(svg, {
    background: 'white',
    fitTo: { mode: 'zoom', value: scale },
    font: { loadSystemFonts: true },
  });
  return resvg.render().asPng();
}

/**
 * Write an SVG figure atomically and return its path; with `png: true` also write a PNG twin
 * beside it (same name, `.png`), for viewers that do not show SVG.
 */
export function writeFigure(path: string, svg: string, options: { png?: boolean } = {}): string {
  writeFileAtomic(path, svg);
  if (options.png) writeFileAtomic(path.replace(/\.svg$/i, '') + '.png', svgToPng(svg));
  return path;
}
