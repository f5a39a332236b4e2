/**
 * A target server in a child process, so its CPU does not compete with the
 * scheduler under test on the same event loop: /ok answers 200, /hang never answers.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

const SCRIPT = `
const http = require('node:http');
const server = http.createServer((req, res) => {
  if (req.url.startsWith('/hang')) return;
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '2' });
  res.end('ok');
});
server.keepAliveTimeout = 5000;
server.listen(0, '127.0.0.1', 4096, () => {
  process.stdout.write(JSON.stringify({ port: server.address().port }) + '\\n');
});
process.on('SIGTERM', () => process.exit(0));
`;

export interface TargetProcess {
  port: number;
  url(path: string): string;
  close(): Promise<void>;
}

export async function startTargetProcess(): Promise<TargetProcess> {
  const child: ChildProcess = spawn(process.execPath, ['-e', SCRIPT], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.once('line', (l) => resolve((JSON.parse(l) as { port: number }).port));
    child.once('exit', (code) => reject(new Error(`target process exited with ${code}`)));
  });
  return {
    port,
    url: (path) => `http://127.0.0.1:${port}${path}`,
    close: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
