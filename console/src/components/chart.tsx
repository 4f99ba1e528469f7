import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { theme } from '../state/store';

/** One line or bar series of a chart. */
export interface ChartSeries {
  label: string;
  values: number[];
  /** A CSS colour; the theme's accent when absent. */
  colour?: string;
}

/**
 * A uPlot chart sized to its container: lines over time (`x` in seconds since the epoch) or bars over
 * categories (`x` = 0, 1, 2... named by `categories`). Redrawn in place when the data change.
 */
export function Chart({
  title,
  x,
  series,
  kind = 'line',
  categories,
  height = 180,
}: {
  title: string;
  x: number[];
  series: ChartSeries[];
  kind?: 'line' | 'bars';
  categories?: string[];
  height?: number;
}) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | undefined>(undefined);
  const data = [x, ...series.map((s) => s.values)] as uPlot.AlignedData;
  // Colours are read from the theme when the chart is built: a new theme builds it again.
  const shape = `${theme.value}:${kind}:${series.map((s) => s.label).join('|')}:${categories?.join('|') ?? ''}`;
  useEffect(() => {
    const element = box.current;
    if (!element) return;
    const options = chartOptions({ kind, series, categories, height, width: element.clientWidth || 600 });
    plot.current = new uPlot(options, data, element);
    const resize = new ResizeObserver(() => plot.current?.setSize({ width: element.clientWidth, height }));
    resize.observe(element);
    return () => {
      resize.disconnect();
      plot.current?.destroy();
      plot.current = undefined;
    };
  }, [shape, height]);

  useEffect(() => {
    plot.current?.setData(data);
  });

  return (
    <figure class="chart">
      <figcaption>{title}</figcaption>
      <div ref={box} role="img" aria-label={describe(title, series, categories)} />
    </figure>
  );
}

function chartOptions(args: {
  kind: 'line' | 'bars';
  series: ChartSeries[];
  categories: string[] | undefined;
  height: number;
  width: number;
}): uPlot.Options {
  const bars = args.kind === 'bars';
  const style = getComputedStyle(document.documentElement);
  const axisColour = style.getPropertyValue('--muted').trim() || '#888';
  const accent = style.getPropertyValue('--accent').trim() || '#2563eb';
  const axis = {
    stroke: axisColour,
    grid: { stroke: 'rgba(128,128,128,0.15)' },
    ticks: { stroke: 'rgba(128,128,128,0.3)' },
  };
  return {
    width: args.width,
    height: args.height,
    legend: { show: args.series.length > 1 },
    cursor: { drag: { x: false, y: false } },
    scales: { x: { time: !bars }, y: { range: (_u, _min, max) => [0, Math.max(1, max) * 1.1] } },
    axes: [
      bars
        ? { ...axis, values: (_u, ticks) => ticks.map((t) => args.categories?.[t] ?? ''), space: 20 }
        : axis,
      axis,
    ],
    series: [
      {},
      ...args.series.map((s) => ({
        label: s.label,
        stroke: s.colour ?? accent,
        fill: bars ? (s.colour ?? accent) : undefined,
        width: bars ? 0 : 2,
        paths: bars ? uPlot.paths.bars?.({ size: [0.6, 64] }) : undefined,
        points: { show: false },
      })),
    ],
  };
}

function describe(title: string, series: ChartSeries[], categories: string[] | undefined): string {
  const parts = series.map((s) => {
    if (categories) return `${s.label}: ${categories.map((c, i) => `${c} ${s.values[i] ?? 0}`).join(', ')}`;
    const latest = s.values[s.values.length - 1];
    return `${s.label}: latest ${latest ?? 'none'}`;
  });
  return `${title}. ${parts.join('; ')}`;
}
