import type { HostWeigher } from '../types.js';

/** Prefers hosts with more free RAM (spread); a negative multiplier stacks. */
export const ramWeigher = (multiplier: number): HostWeigher => ({
  name: 'RAMWeigher',
  multiplier,
  weigh: (h) => h.memoryMb * h.ramAllocationRatio - h.usedMemoryMb,
});
