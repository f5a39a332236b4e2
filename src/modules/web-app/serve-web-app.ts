/**
 * Serves the built web dashboard (web/dist, made by `npm run build`) at `/`: hashed assets
 * with a year-long immutable cache, and index.html, never cached, for every other GET path
 * that is not the API's, so client-side routes (/sites/…, /status/<slug>) load on reload.
 * API, health, Socket.IO and /ws paths pass through untouched.
 */
import { existsSync } from 'node:fs';
import { extname, join, resolve } from 'node:path';
import { INestApplication, Logger } from '@nestjs/common';
import express, { NextFunction, Request, Response } from 'express';

/** dist/modules/web-app and src/modules/web-app are both three levels below the root. */
export const WEB_DIST_DIR = resolve(__dirname, '..', '..', '..', 'web', 'dist');

const PASS_THROUGH = /^\/(?:api|health|socket\.io|ws|metrics)(?:\/|$)/;

const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  // uPlot and the virtual list position elements with inline styles
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self' ws: wss:",
  "frame-ancestors 'none'",
  "base-uri 'self'",
  "form-action 'self'",
].join('; ');

export function serveWebApp(app: INestApplication, dir = WEB_DIST_DIR): void {
  const index = join(dir, 'index.html');
  const built = existsSync(index);
  if (!built)
    new Logger('WebApp').warn(`no dashboard build at ${dir}: run \`npm run build\` to serve it`);
  const assets = express.static(dir, {
    index: false,
    redirect: false,
    setHeaders(res, path) {
      res.setHeader(
        'Cache-Control',
        path.includes(`${join(dir, 'assets')}`)
          ? 'public, max-age=31536000, immutable'
          : 'no-cache',
      );
      res.setHeader('X-Content-Type-Options', 'nosniff');
    },
  });
  const sendIndex = (res: Response) => {
    res.setHeader('Cache-Control', 'no-cache');
    res.setHeader('Content-Security-Policy', CSP);
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'same-origin');
    res.sendFile(index);
  };
  app.use((req: Request, res: Response, next: NextFunction) => {
    if ((req.method !== 'GET' && req.method !== 'HEAD') || PASS_THROUGH.test(req.path))
      return next();
    if (!built) {
      if (req.path !== '/') return next();
      res.status(404).type('text/plain').send('The dashboard is not built: run `npm run build`.');
      return;
    }
    if (req.path === '/' || req.path === '/index.html') return sendIndex(res);
    assets(req, res, () => {
      // A missing file with an extension is a real 404; anything else is a client-side route.
      if (extname(req.path) !== '') return next();
      sendIndex(res);
    });
  });
}
