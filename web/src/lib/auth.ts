// The signed-in user's bearer token (localStorage), with its expiry read from the JWT.
import { createStore } from './store';

const KEY = 'uptime.token';

export interface Session {
  token: string;
  email: string;
  userId: string;
  /** epoch ms */
  expiresAt: number;
}

function decode(token: string): Session | null {
  try {
    const payload = JSON.parse(atob(token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/'))) as {
      sub?: string;
      email?: string;
      exp?: number;
    };
    if (!payload.sub || !payload.exp) return null;
    return {
      token,
      email: payload.email ?? '',
      userId: payload.sub,
      expiresAt: payload.exp * 1000,
    };
  } catch {
    return null;
  }
}

function load(): Session | null {
  const t = localStorage.getItem(KEY);
  const s = t ? decode(t) : null;
  return s && s.expiresAt > Date.now() ? s : null;
}

export const session = createStore<Session | null>(load());

export function signIn(token: string): void {
  const s = decode(token);
  if (!s) throw new Error('the server answered with an unreadable token');
  localStorage.setItem(KEY, token);
  session.set(s);
}

export function signOut(): void {
  localStorage.removeItem(KEY);
  session.set(null);
}
