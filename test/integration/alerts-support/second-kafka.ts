/**
 * A second, private Kafka broker for tests that stop and restart a broker (the shared one serves
 * other tests). It is scripts/kafka/kafka.sh with its own directory under .kafka/ and its own
 * ports, reusing the jars the shared broker already resolved (lib/ is a symlink).
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { freePort } from '../../support/node-process';

const ROOT = resolve(__dirname, '../../..');
const SCRIPT = join(ROOT, 'scripts/kafka/kafka.sh');

export interface PrivateBroker {
  brokers: string;
  dir: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  destroy(): Promise<void>;
}

function fetchJars(): Promise<void> {
  return new Promise((done, fail) =>
    execFile('bash', [SCRIPT, 'jars'], { timeout: 300_000 }, (err, _out, stderr) =>
      err ? fail(new Error(`kafka.sh jars failed: ${stderr}`)) : done(),
    ),
  );
}

export async function privateBroker(name: string): Promise<PrivateBroker> {
  const sharedLib = join(ROOT, '.kafka', 'lib');
  // The shared broker may be one this checkout did not start (another clone's):
  // make sure this checkout has the jars too.
  if (!existsSync(sharedLib)) await fetchJars();
  if (!existsSync(sharedLib)) throw new Error(`${sharedLib} is missing after "kafka.sh jars"`);
  const dir = join(ROOT, '.kafka', name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  symlinkSync('../lib', join(dir, 'lib'));
  const port = await freePort();
  let controller = await freePort();
  while (controller === port) controller = await freePort();
  const env = {
    ...process.env,
    KAFKA_DIR: dir,
    KAFKA_TEST_PORT: String(port),
    KAFKA_CONTROLLER_PORT: String(controller),
    KAFKA_HEAP: '384m',
  };
  const run = (cmd: 'start' | 'stop') =>
    new Promise<void>((done, fail) => {
      execFile('bash', [SCRIPT, cmd], { env, timeout: 180_000 }, (err, _out, stderr) =>
        err
          ? fail(new Error(`kafka.sh ${cmd} (${dir}) failed: ${err.message}\n${stderr}`))
          : done(),
      );
    });
  return {
    brokers: `127.0.0.1:${port}`,
    dir,
    start: () => run('start'),
    stop: () => run('stop'),
    async destroy() {
      await run('stop').catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
