import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

/**
 * The top entries of a V8 .cpuprofile, as percentages of the busy (non-idle) time:
 * by self time, and by the nearest frame of our own code (dist/ or src/) on the stack,
 * which is where to look for the cost (a writev is attributed to whoever wrote).
 */
export function topOfProfile(file: string, n: number): string[] {
  const p = JSON.parse(readFileSync(file, 'utf8')) as {
    nodes: ProfileNode[];
    samples: number[];
    timeDeltas: number[];
  };
  const byId = new Map(p.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of p.nodes) for (const c of node.children ?? []) parent.set(c, node.id);
  const label = (f: ProfileNode['callFrame']) =>
    `${f.functionName || '(anonymous)'} ${shortUrl(f.url)}:${f.lineNumber + 1}`;
  const self = new Map<string, number>();
  const ours = new Map<string, number>();
  let busy = 0;
  p.samples.forEach((id, i) => {
    const node = byId.get(id);
    if (!node || node.callFrame.functionName === '(idle)') return;
    const dt = Math.max(0, p.timeDeltas[i] ?? 0);
    busy += dt;
    self.set(label(node.callFrame), (self.get(label(node.callFrame)) ?? 0) + dt);
    let cur: number | undefined = id;
    let owner = '(no frame of ours: runtime, GC, libraries)';
    while (cur !== undefined) {
      const f = byId.get(cur)!.callFrame;
      if (/\/(dist|src)\//.test(f.url) && !f.url.includes('node_modules')) {
        owner = label(f);
        break;
      }
      cur = parent.get(cur);
    }
    ours.set(owner, (ours.get(owner) ?? 0) + dt);
  });
  const top = (m: Map<string, number>) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(
        ([k, us]) =>
          `  ${((us / busy) * 100).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(6)} ms  ${k}`,
      );
  return [
    `busy ${(busy / 1000).toFixed(0)} ms; by self time:`,
    ...top(self),
    'by the nearest frame of our code on the stack:',
    ...top(ours),
  ];
}

function shortUrl(url: string): string {
  const parts = url.replace(/^file:\/\//, '').split('/');
  const i = parts.lastIndexOf('node_modules');
  if (i >= 0) return `${parts.slice(i + 1, i + 3).join('/')}/…/${parts[parts.length - 1]}`;
  const d = parts.findIndex((x) => x === 'dist' || x === 'src');
  return d >= 0 ? parts.slice(d + 1).join('/') : parts.slice(-2).join('/');
}
