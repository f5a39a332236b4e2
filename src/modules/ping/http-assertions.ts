/**
 * The assertions of an http check on what came back: status (listed codes or ranges),
 * texts present and absent, JSON paths, latency. Pure functions over the response, so
 * each rule is tested without a server; the first broken rule names the failure.
 */
import type { HttpAssertions, JsonAssertion } from './check-spec';
import { fail, type Outcome } from './check-deadline';

export function statusAccepted(
  status: number,
  expected: readonly number[] | undefined,
  ranges: HttpAssertions['status'] = [],
): boolean {
  if ((!expected || expected.length === 0) && ranges.length === 0) {
    return status >= 200 && status < 300;
  }
  return (
    (expected?.includes(status) ?? false) || ranges.some((r) => status >= r.min && status <= r.max)
  );
}

export function describeAccepted(
  expected: readonly number[] | undefined,
  ranges: HttpAssertions['status'] = [],
): string {
  const parts = [...(expected ?? []).map(String), ...ranges.map((r) => `${r.min}-${r.max}`)];
  return parts.length > 0 ? parts.join(',') : '2xx';
}

/** Whether the body must be read whole (up to the bound) rather than scanned for one keyword. */
export function needsBody(a: HttpAssertions): boolean {
  return a.bodyContains.length > 0 || a.bodyNotContains.length > 0 || a.json.length > 0;
}

/** Body rules over a body read up to the bound; `truncated`: the body was longer. */
export function judgeBody(
  body: Buffer,
  truncated: boolean,
  keyword: string | null | undefined,
  a: HttpAssertions,
): Outcome {
  const text = body.toString('utf8');
  for (const k of keyword ? [keyword, ...a.bodyContains] : a.bodyContains) {
    if (!text.includes(k))
      return fail('KEYWORD', `"${k}" not found in the first ${body.length} bytes`);
  }
  for (const k of a.bodyNotContains) {
    if (text.includes(k)) return fail('KEYWORD', `"${k}" found in the body`);
  }
  if (a.json.length === 0) return { ok: true };
  if (truncated) return fail('KEYWORD', `body over ${body.length} bytes: not parsed as JSON`);
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return fail('KEYWORD', 'body is not JSON');
  }
  for (const rule of a.json) {
    const problem = jsonProblem(doc, rule);
    if (problem) return fail('KEYWORD', problem);
  }
  return { ok: true };
}

/** Why `rule` does not hold on `doc`, or null. */
export function jsonProblem(doc: unknown, rule: JsonAssertion): string | null {
  const found = at(doc, rule.path);
  if (!found.exists) return `${rule.path}: no such value`;
  const v = found.value;
  switch (rule.op) {
    case 'equals':
      return v === rule.value ? null : `${rule.path} is ${shown(v)}, expected ${shown(rule.value)}`;
    case 'contains':
      if (typeof v === 'string' && typeof rule.value === 'string') {
        return v.includes(rule.value)
          ? null
          : `${rule.path} is ${shown(v)}, without ${shown(rule.value)}`;
      }
      if (Array.isArray(v)) {
        return v.some((e) => e === rule.value)
          ? null
          : `${rule.path} has no element ${shown(rule.value)}`;
      }
      return `${rule.path} is ${shown(v)}: neither a string nor an array`;
    case 'range': {
      if (typeof v !== 'number') return `${rule.path} is ${shown(v)}, not a number`;
      if (rule.min !== undefined && v < rule.min) return `${rule.path} is ${v}, below ${rule.min}`;
      if (rule.max !== undefined && v > rule.max) return `${rule.path} is ${v}, above ${rule.max}`;
      return null;
    }
  }
}

type Step = string | number;

/** Steps of a path the schema accepted: `$.a[0]["b c"]` → ["a", 0, "b c"]. */
export function pathSteps(path: string): Step[] {
  const steps: Step[] = [];
  const re = /\.([A-Za-z_$][\w$-]*)|\[(\d+)\]|\["((?:[^"\\]|\\.)*)"\]/gy;
  re.lastIndex = 1;
  for (let m = re.exec(path); m; m = re.exec(path)) {
    if (m[1] !== undefined) steps.push(m[1]);
    else if (m[2] !== undefined) steps.push(Number(m[2]));
    else steps.push(JSON.parse(`"${m[3]}"`) as string);
  }
  return steps;
}

function at(doc: unknown, path: string): { exists: boolean; value?: unknown } {
  let cur: unknown = doc;
  for (const step of pathSteps(path)) {
    if (typeof step === 'number') {
      if (!Array.isArray(cur) || step >= cur.length) return { exists: false };
      cur = cur[step];
    } else {
      if (cur === null || typeof cur !== 'object' || Array.isArray(cur)) return { exists: false };
      if (!Object.prototype.hasOwnProperty.call(cur, step)) return { exists: false };
      cur = (cur as Record<string, unknown>)[step];
    }
  }
  return { exists: true, value: cur };
}

function shown(v: unknown): string {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 80 ? `${s.slice(0, 79)}…` : s;
}
