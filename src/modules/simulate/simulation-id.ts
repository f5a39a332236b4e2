/** Ids of one-off checks (GET /api/simulate): tallied like sites, never replicated through Raft. */
export const SIMULATION_PREFIX = 'sim-';
