import type { HostState, RequestSpec } from '../../src/scheduler/types.js';

/** An empty 4-vCPU / 4 GB / 100 GB host in zone nova, with overrides. */
export const hostState = (name: string, over: Partial<HostState> = {}): HostState => ({
  host: name,
  node: name,
  availabilityZone: 'nova',
  enabled: true,
  vcpus: 4,
  memoryMb: 4096,
  diskGb: 100,
  cpuAllocationRatio: 1,
  ramAllocationRatio: 1,
  diskAllocationRatio: 1,
  usedVcpus: 0,
  usedMemoryMb: 0,
  usedDiskGb: 0,
  instances: 0,
  ...over,
});

/** A request for one small server, with overrides. */
export const requestSpec = (over: Partial<RequestSpec> = {}): RequestSpec => ({
  vcpus: 1,
  memoryMb: 512,
  diskGb: 1,
  availabilityZone: null,
  ignoreHosts: [],
  requestedHost: null,
  requestedNode: null,
  ...over,
});
