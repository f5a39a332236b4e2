/**
 * Real clients of the real-time API: socket.io-client and a plain `ws` WebSocket, each recording
 * what it receives, plus small helpers to wait for a condition.
 */
import { io, Socket } from 'socket.io-client';
import WebSocket from 'ws';

export async function waitFor(
  what: string,
  cond: () => boolean | Promise<boolean>,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export interface IoClient {
  socket: Socket;
  events: { name: string; data: any }[];
  of(name: string): any[];
  close(): void;
}

/** Connects with `auth.token` (or headers); rejects with the connect_error message. */
export function connectIo(
  baseUrl: string,
  opts: { token?: string; headers?: Record<string, string> } = {},
): Promise<IoClient> {
  const socket = io(baseUrl, {
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
    auth: opts.token ? { token: opts.token } : undefined,
    extraHeaders: opts.headers,
    timeout: 5_000,
  });
  const events: { name: string; data: any }[] = [];
  socket.onAny((name: string, data: unknown) => events.push({ name, data }));
  const client: IoClient = {
    socket,
    events,
    of: (name) => events.filter((e) => e.name === name).map((e) => e.data),
    close: () => socket.close(),
  };
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(client));
    socket.once('connect_error', (err) => {
      socket.close();
      reject(err);
    });
  });
}

export interface WsClient {
  ws: WebSocket;
  frames: any[];
  of(type: string): any[];
  send(msg: unknown): void;
  closed: Promise<{ code: number; reason: string }>;
  close(): void;
}

/** Opens /ws (token as query parameter unless `token` is undefined) and records every frame. */
export function openWs(baseUrl: string, token?: string, path = '/ws'): WsClient {
  const url = new URL(path, baseUrl.replace(/^http/, 'ws'));
  if (token !== undefined) url.searchParams.set('token', token);
  const ws = new WebSocket(url);
  const frames: any[] = [];
  ws.on('message', (data: Buffer) => frames.push(JSON.parse(data.toString('utf8'))));
  ws.on('error', () => undefined);
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.once('close', (code, reason) => resolve({ code, reason: String(reason) })),
  );
  return {
    ws,
    frames,
    of: (type) => frames.filter((f) => f.type === type),
    send: (msg) => ws.send(JSON.stringify(msg)),
    closed,
    close: () => ws.close(),
  };
}

/** Opens /ws with a token and waits until the server confirmed the authentication. */
export async function connectWs(baseUrl: string, token: string): Promise<WsClient> {
  const c = openWs(baseUrl, token);
  await waitFor('the authenticated frame', () => c.of('authenticated').length > 0, 5_000);
  return c;
}
