// Response time per region over time, drawn by uPlot. One series per region: the mean
// latency of that region's successful checks in each round (failed checks leave a gap).
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { PingLog } from '../lib/types';

const COLORS = ['#1d4ed8', '#b45309', '#047857', '#7c3aed', '#be123c', '#0e7490'];
/** the time axis spans at least this much (s): a few points would otherwise get sub-second ticks */
const MIN_SPAN_S = 3600;

/** The x range: the points' own span, extended into the past to MIN_SPAN_S when shorter. */
export function timeRange(min: number, max: number): [number, number] {
  return [Math.min(min, max - MIN_SPAN_S), max + 30];
}

export interface Point {
  region: string;
  round: number;
  /** epoch ms */
  at: number;
  latencyMs: number | null;
}

export function pointsOf(logs: readonly PingLog[]): Point[] {
  const groups = new Map<string, { at: number[]; lat: number[]; region: string; round: number }>();
  for (const l of logs) {
    const key = `${l.region}|${l.round}`;
    const g = groups.get(key) ?? { at: [], lat: [], region: l.region, round: l.round };
    g.at.push(Date.parse(l.checkedAt));
    if (l.up && l.latencyMs !== null) g.lat.push(l.latencyMs);
    groups.set(key, g);
  }
  return [...groups.values()].map((g) => ({
    region: g.region,
    round: g.round,
    at: Math.min(...g.at),
    latencyMs: g.lat.length ? g.lat.reduce((a, b) => a + b, 0) / g.lat.length : null,
  }));
}

function dataOf(points: readonly Point[]): { regions: string[]; data: uPlot.AlignedData } {
  const regions = [...new Set(points.map((p) => p.region))].sort();
  const times = [...new Set(points.map((p) => Math.round(p.at / 1000)))].sort((a, b) => a - b);
  const index = new Map(times.map((t, i) => [t, i]));
  const series = regions.map(() => new Array<number | null>(times.length).fill(null));
  for (const p of points) {
    series[regions.indexOf(p.region)][index.get(Math.round(p.at / 1000))!] = p.latencyMs;
  }
  return { regions, data: [times, ...series] as uPlot.AlignedData };
}

export function LatencyChart({ points }: { points: Point[] }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const shape = useRef('');
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    if (points.length === 0) {
      plot.current?.destroy();
      plot.current = null;
      shape.current = '';
      return;
    }
    const { regions, data } = dataOf(points);
    const key = regions.join(',');
    if (plot.current && shape.current === key) {
      plot.current.setData(data);
      return;
    }
    plot.current?.destroy();
    shape.current = key;
    plot.current = new uPlot(
      {
        width: Math.max(300, el.clientWidth),
        height: 260,
        scales: { x: { time: true, range: (_u, min, max) => timeRange(min, max) } },
        axes: [{ space: 80 }, { label: 'ms', size: 60 }],
        hooks: {
          // the shown time span, for tests and tools: the canvas has no readable ticks
          setScale: [
            (u, key) => {
              if (key === 'x')
                el.dataset.xSpanS = String((u.scales.x.max ?? 0) - (u.scales.x.min ?? 0));
            },
          ],
        },
        series: [
          {},
          ...regions.map((r, i) => ({
            label: r,
            stroke: COLORS[i % COLORS.length],
            width: 2,
            spanGaps: false,
            points: { show: true, size: 4 },
            value: (_u: uPlot, v: number | null) => (v === null ? '–' : `${Math.round(v)} ms`),
          })),
        ],
      },
      data,
      el,
    );
  }, [points]);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const ro = new ResizeObserver(() =>
      plot.current?.setSize({ width: Math.max(300, el.clientWidth), height: 260 }),
    );
    ro.observe(el);
    return () => {
      ro.disconnect();
      plot.current?.destroy();
      plot.current = null;
    };
  }, []);
  const regions = [...new Set(points.map((p) => p.region))].sort();
  const summary = regions
    .map((r) => {
      const v = points
        .filter((p) => p.region === r && p.latencyMs !== null)
        .map((p) => p.latencyMs!);
      return v.length
        ? `${r}: mean ${Math.round(v.reduce((a, b) => a + b, 0) / v.length)} ms`
        : `${r}: no successful check`;
    })
    .join('; ');
  return (
    <figure class="chart">
      <div
        ref={box}
        role="img"
        aria-label={`Response time per region. ${summary || 'No checks yet.'}`}
      />
      <figcaption class="muted">
        {points.length === 0
          ? 'No checks in the last 24 hours yet.'
          : `Mean latency per round of each region (${summary}).`}
      </figcaption>
    </figure>
  );
}
