/** A small uPlot line of one measure over time, sized to its box, recolored with the theme. */
import { useEffect, useRef } from "react";
import uPlot from "uplot";
import { useTheme } from "../theme.tsx";
import "uplot/dist/uPlot.min.css";

export function Sparkline({ times, values, label }: { times: number[]; values: number[]; label: string }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | undefined>(undefined);
  const theme = useTheme();
  const latest = useRef({ times, values });
  latest.current = { times, values };
  // Made anew when the theme changes: its colors are read from the page's at creation.
  // biome-ignore lint/correctness/useExhaustiveDependencies: theme changes the CSS variables read inside
  useEffect(() => {
    const el = box.current!;
    const stroke = getComputedStyle(el).getPropertyValue("--accent").trim() || "#4ea1ff";
    plot.current = new uPlot(
      {
        width: el.clientWidth || 200,
        height: 44,
        cursor: { show: false },
        legend: { show: false },
        select: { show: false, left: 0, top: 0, width: 0, height: 0 },
        axes: [{ show: false }, { show: false }],
        scales: { x: { time: false } },
        series: [{}, { stroke, width: 1.5, fill: `${stroke}22` }],
      },
      [latest.current.times.map((t) => t / 1000), latest.current.values],
      el,
    );
    const resize = new ResizeObserver(() => plot.current?.setSize({ width: el.clientWidth, height: 44 }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.current?.destroy();
    };
  }, [theme]);
  useEffect(() => {
    plot.current?.setData([times.map((t) => t / 1000), values]);
  }, [times, values]);
  return (
    <div className="spark" ref={box} role="img" aria-label={`${label} over the last ${spanOf(times)}`} />
  );
}

function spanOf(times: number[]): string {
  if (times.length < 2) return "moments";
  const min = Math.round((times.at(-1)! - times[0]!) / 60_000);
  return min < 1 ? "minute" : `${min} minutes`;
}
