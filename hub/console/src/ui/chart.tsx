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

/** A time chart drawn by uPlot; `x` is epoch ms. */
export function TimeChart(props: { title: string; x: number[]; series: Series[]; height?: number }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const hasRight = props.series.some((s) => s.right);
    const plot = new uPlot(
      {
        width: Math.max(280, el.clientWidth),
        height: props.height ?? 220,
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
  }, [props.x, props.series, props.height]);
  return <figure class="chart" aria-label={props.title} ref={box} />;
}
