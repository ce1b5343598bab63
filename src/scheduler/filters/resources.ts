import type { HostFilter } from '../types.js';

/** vCPUs, RAM and disk must fit within capacity times the allocation ratio. */
export const resourcesFilter: HostFilter = {
  name: 'ResourcesFilter',
  passes: (h, s) =>
    h.usedVcpus + s.vcpus <= h.vcpus * h.cpuAllocationRatio &&
    h.usedMemoryMb + s.memoryMb <= h.memoryMb * h.ramAllocationRatio &&
    h.usedDiskGb + s.diskGb <= h.diskGb * h.diskAllocationRatio,
};
