#!/usr/bin/env node
/**
 * The gates `npm test` runs before Jest — type check, Prettier, ESLint and the build — side
 * by side instead of one after another (they are independent; on a 2-core CI machine this
 * takes about half the wall time). Each one's output is printed whole when it ends, under
 * its name; the exit code is non-zero when any failed.
 */
const { spawn } = require('node:child_process');

const steps = ['typecheck', 'format:check', 'lint', 'build'];

function run(script) {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn('npm', ['run', '--silent', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks = [];
    child.stdout.on('data', (c) => chunks.push(c));
    child.stderr.on('data', (c) => chunks.push(c));
    child.on('close', (code) => {
      const seconds = ((Date.now() - started) / 1000).toFixed(1);
      const output = Buffer.concat(chunks).toString('utf8').trimEnd();
      console.log(`== ${script}: ${code === 0 ? 'ok' : `FAILED (exit ${code})`} in ${seconds} s`);
      if (output) console.log(output);
      resolve(code === 0);
    });
  });
}

Promise.all(steps.map(run)).then((ok) => {
  process.exitCode = ok.every(Boolean) ? 0 : 1;
});
