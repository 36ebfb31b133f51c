import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface Series {
  label: string;
  values: (number | null)[];
  color: string;
  /** A second y axis on the right (e.g. revenue beside counts). */
  right?: boolean;
}

/**
 * A time chart drawn by uPlot; `x` is epoch ms. `minSpanMs` is the narrowest time range shown: with one point
 * (the first day of a fleet) uPlot would otherwise stretch a zero-width range over years.
 */
export function TimeChart(props: {
  title: string;
  x: number[];
  series: Series[];
  height?: number;
  minSpanMs?: number;
}) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const hasRight = props.series.some((s) => s.right);
    const plot = new uPlot(
      {
        width: Math.max(280, el.clientWidth),
        height: props.height ?? 220,
        scales: { x: { time: true, range: xRange(props.x, props.minSpanMs ?? 60_000) } },
        series: [
          {},
          ...props.series.map((s) => ({
            label: s.label,
            stroke: s.color,
            width: 2,
            scale: s.right ? 'r' : 'y',
          })),
        ],
        axes: [
          { stroke: 'currentColor', grid: { stroke: 'rgba(128,128,128,.2)' } },
          { stroke: 'currentColor', scale: 'y', grid: { stroke: 'rgba(128,128,128,.2)' } },
          ...(hasRight ? [{ side: 1, scale: 'r', stroke: 'currentColor', grid: { show: false } }] : []),
        ],
      },
      [props.x.map((t) => t / 1000), ...props.series.map((s) => s.values)],
      el,
    );
    const resize = new ResizeObserver(() =>
      plot.setSize({ width: Math.max(280, el.clientWidth), height: props.height ?? 220 }),
    );
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [props.x, props.series, props.height, props.minSpanMs]);
  return <figure class="chart" aria-label={props.title} ref={box} />;
}

/** The x range in seconds: the data's, widened around its middle to at least `minSpanMs`. */
function xRange(x: number[], minSpanMs: number): [number, number] {
  if (x.length === 0) return [0, minSpanMs / 1000];
  const lo = Math.min(...x) / 1000;
  const hi = Math.max(...x) / 1000;
  const pad = Math.max(0, minSpanMs / 1000 - (hi - lo)) / 2;
  return [lo - pad, hi + pad];
}
