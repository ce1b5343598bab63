import type { HostFilter } from '../types.js';

/** Only enabled compute services take new servers. */
export const computeFilter: HostFilter = { name: 'ComputeFilter', passes: (h) => h.enabled };
