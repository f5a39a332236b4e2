// REST calls with the bearer token and the API's one error shape.
import { session, signOut } from './auth';

export interface FieldIssue {
  path: string;
  message: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: FieldIssue[] = [],
  ) {
    super(message);
  }

  /** Issues keyed by their first path segment ("expectedStatus.1" → "expectedStatus"). */
  byField(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const d of this.details) {
      const key = d.path.split('.')[0] ?? d.path;
      out[key] ??= d.message;
    }
    return out;
  }
}

export async function api<T>(
  path: string,
  init: { method?: string; body?: unknown; auth?: boolean; signal?: AbortSignal } = {},
): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  const token = session.get()?.token;
  if ((init.auth ?? true) && token) headers.authorization = `Bearer ${token}`;
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(path, {
      method: init.method ?? 'GET',
      headers,
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
      signal: init.signal,
    });
  } catch (e) {
    if ((e as Error).name === 'AbortError') throw e;
    throw new ApiError(0, 'NETWORK', 'the server cannot be reached');
  }
  if (res.status === 204) return undefined as T;
  const body = (await res.json().catch(() => null)) as unknown;
  if (!res.ok) {
    const b = (body ?? {}) as { error?: string; message?: string; details?: FieldIssue[] };
    if (res.status === 401 && (init.auth ?? true)) signOut();
    throw new ApiError(res.status, b.error ?? 'ERROR', b.message ?? res.statusText, b.details);
  }
  return body as T;
}
