/**
 * Flags every validator process is started with: `npm start`, `npm run start:prod`, the
 * Dockerfile, and the test and bench launchers (test/unit/config/node-flags.spec.ts keeps
 * them in step).
 *
 * --max-semi-space-size=64: a node allocates per check and per vote (request objects,
 * buffers, small records) at a high rate, and with V8's default 16 MB young generation
 * it scavenged often enough that the garbage collector was the largest single entry in
 * its CPU profile (~12 % at 5,000 sites). A 64 MB semi-space lets short-lived objects die
 * young: 9 % less CPU per site-round in bench:capacity (1 node, 5,000 sites, two pairs of
 * runs in one sitting), for ~80 MB more resident memory.
 */
export const NODE_FLAGS: readonly string[] = ['--max-semi-space-size=64'];
