// Display helpers: numbers, durations and times as people read them.
export function pct(v: number | null | undefined, digits = 2): string {
  if (v === null || v === undefined) return '–';
  if (v >= 100) return '100%';
  return `${(Math.floor(v * 10 ** digits) / 10 ** digits).toFixed(digits)}%`;
}

export function ms(v: number | null | undefined): string {
  if (v === null || v === undefined) return '–';
  return v >= 10_000 ? `${(v / 1000).toFixed(1)} s` : `${Math.round(v)} ms`;
}

export function duration(msTotal: number): string {
  const s = Math.round(msTotal / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${s % 60} s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h ${m % 60} min`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

export function ago(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return 'never';
  const d = now - Date.parse(iso);
  if (d < 5_000) return 'just now';
  return `${duration(d)} ago`;
}

export function time(iso: string | number | null | undefined): string {
  if (iso === null || iso === undefined) return '–';
  return new Date(iso).toLocaleString(undefined, {
    year: 'numeric',
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  });
}

export function interval(msTotal: number): string {
  if (msTotal % 3_600_000 === 0) return `${msTotal / 3_600_000} h`;
  if (msTotal % 60_000 === 0) return `${msTotal / 60_000} min`;
  return `${msTotal / 1000} s`;
}
