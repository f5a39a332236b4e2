/**
 * Local target servers for ping tests, one behaviour per path: healthy, failing,
 * hanging, resetting, trickling, redirecting. Every socket is tracked so close()
 * ends hanging requests too.
 */
import { createServer as createHttp, IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer as createHttps } from 'node:https';
import { AddressInfo, createServer as createTcp, Socket } from 'node:net';
import type { KeyPair } from './certs';

export const OK_BODY = 'hello from the uptime target';

export interface Target {
  port: number;
  /** connections accepted so far */
  connections: number;
  url(path: string, host?: string): string;
  close(): Promise<void>;
}

function route(req: IncomingMessage, res: ServerResponse): void {
  const path = (req.url ?? '/').split('?')[0];
  switch (path) {
    case '/ok':
      res.writeHead(200, { 'content-type': 'text/plain' }).end(OK_BODY);
      return;
    case '/500':
      res.writeHead(500).end('boom');
      return;
    case '/hang':
      return; // never answers
    case '/reset':
      req.socket.resetAndDestroy();
      return;
    case '/slow-body': {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('a');
      const t = setInterval(() => res.write('a'), 100);
      res.on('close', () => clearInterval(t));
      return;
    }
    case '/redirect':
      res.writeHead(302, { location: '/ok' }).end();
      return;
    case '/redirect-loop':
      res.writeHead(302, { location: '/redirect-loop' }).end();
      return;
    case '/redirect-metadata':
      res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/' }).end();
      return;
    case '/redirect-file':
      res.writeHead(302, { location: 'file:///etc/passwd' }).end();
      return;
    case '/split': {
      // The keyword "NEEDLE" straddles two chunks written apart in time.
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('x'.repeat(1000) + 'NEE');
      setTimeout(() => res.end('DLE' + 'y'.repeat(1000)), 20);
      return;
    }
    case '/big': {
      // 3 MiB with the keyword only at the very end: past the 1 MiB read bound.
      res.writeHead(200, { 'content-type': 'text/plain' });
      const chunk = Buffer.alloc(64 * 1024, 'z');
      let sent = 0;
      const pump = () => {
        while (sent < 3 * 1024 * 1024) {
          sent += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end('NEEDLE');
      };
      pump();
      return;
    }
    default:
      res.writeHead(404).end();
  }
}

function listen(server: Server | ReturnType<typeof createTcp>): Promise<number> {
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}

function track(server: Server | ReturnType<typeof createTcp>, t: { connections: number }) {
  const sockets = new Set<Socket>();
  server.on('connection', (s: Socket) => {
    t.connections += 1;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  return () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    });
}

export async function startTarget(tls?: KeyPair): Promise<Target> {
  const server = tls ? createHttps({ key: tls.key, cert: tls.cert }, route) : createHttp(route);
  server.keepAliveTimeout = 30_000;
  const scheme = tls ? 'https' : 'http';
  const t = { connections: 0 } as Target;
  const close = track(server, t);
  const port = await listen(server);
  return Object.assign(t, {
    port,
    url: (path: string, host = '127.0.0.1') => `${scheme}://${host}:${port}${path}`,
    close,
  });
}

/** Accepts TCP and resets at once, before any HTTP. */
export async function startResetter(): Promise<Target> {
  const server = createTcp((s) => s.resetAndDestroy());
  const t = { connections: 0 } as Target;
  const close = track(server, t);
  const port = await listen(server);
  return Object.assign(t, {
    port,
    url: (path: string, host = '127.0.0.1') => `http://${host}:${port}${path}`,
    close,
  });
}

/** A port nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = createTcp();
  const port = await listen(server);
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}
