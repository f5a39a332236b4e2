// 24 hourly latency means as one SVG polyline: cheap enough for every visible row.
const W = 96;
const H = 24;

export function Sparkline({ values, label }: { values: (number | null)[]; label: string }) {
  const known = values.filter((v): v is number => v !== null);
  if (known.length < 2)
    return (
      <span class="spark-empty" role="img" aria-label={`${label}: no data`}>
        no data
      </span>
    );
  const max = Math.max(...known);
  const min = Math.min(...known);
  const span = Math.max(1, max - min);
  const step = W / Math.max(1, values.length - 1);
  let d = '';
  values.forEach((v, i) => {
    if (v === null) return;
    const x = (i * step).toFixed(1);
    const y = (H - 2 - ((v - min) / span) * (H - 4)).toFixed(1);
    d += `${d === '' || values[i - 1] === null ? 'M' : 'L'}${x} ${y}`;
  });
  return (
    <svg
      class="spark"
      width={W}
      height={H}
      viewBox={`0 0 ${W} ${H}`}
      role="img"
      aria-label={`${label}: ${Math.round(min)} to ${Math.round(max)} ms`}
    >
      <path d={d} fill="none" stroke="currentColor" stroke-width="1.5" />
    </svg>
  );
}
