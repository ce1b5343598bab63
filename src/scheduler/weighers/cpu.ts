import type { HostWeigher } from '../types.js';

/** Prefers hosts with more free vCPUs (spread). */
export const cpuWeigher = (multiplier: number): HostWeigher => ({
  name: 'CPUWeigher',
  multiplier,
  weigh: (h) => h.vcpus * h.cpuAllocationRatio - h.usedVcpus,
});
