import { parentPort, workerData } from 'node:worker_threads';
import { runSearchSeed } from './search-seed';

/**
 * Worker-thread entry for the randomized search: runs its share of the seeds
 * outside Jest's vm sandbox (where every global lookup is several times
 * slower) and reports each outcome; stops at the first failure.
 */
const { seeds } = workerData as { seeds: number[] };
for (const seed of seeds) {
  const outcome = runSearchSeed(seed);
  parentPort!.postMessage(outcome);
  if (!outcome.ok) break;
}
