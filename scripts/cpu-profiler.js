/**
 * A CPU profiler to preload (NODE_OPTIONS=--require, which refuses --cpu-prof);
 * bench:raft uses it with BENCH_PROFILE. The first SIGUSR2 starts sampling the
 * main thread, the next writes $RAFT_PROFILE_DIR/<pid>-<n>.cpuprofile, so a
 * profile covers one bench level and not the boot. The session is in-thread:
 * post() completes synchronously.
 */
const { Session } = require('node:inspector');
const { writeFileSync } = require('node:fs');
const { join } = require('node:path');

const dir = process.env.RAFT_PROFILE_DIR;
if (dir) {
  const session = new Session();
  session.connect();
  session.post('Profiler.enable');
  let running = false;
  let n = 0;
  process.on('SIGUSR2', () => {
    if (!running) {
      session.post('Profiler.start');
      running = true;
      return;
    }
    running = false;
    session.post('Profiler.stop', (err, result) => {
      if (err) return;
      writeFileSync(join(dir, `${process.pid}-${++n}.cpuprofile`), JSON.stringify(result.profile));
    });
  });
}
