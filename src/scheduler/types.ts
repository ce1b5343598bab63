/** A compute host as the scheduler sees it: capacity, ratios and what is in use. */
export interface HostState {
  host: string;
  node: string;
  availabilityZone: string;
  enabled: boolean;
  vcpus: number;
  memoryMb: number;
  diskGb: number;
  cpuAllocationRatio: number;
  ramAllocationRatio: number;
  diskAllocationRatio: number;
  usedVcpus: number;
  usedMemoryMb: number;
  usedDiskGb: number;
  instances: number;
}

/** What one server needs (Nova's RequestSpec, reduced to what the filters read). */
export interface RequestSpec {
  vcpus: number;
  memoryMb: number;
  diskGb: number;
  availabilityZone: string | null;
  /** Hosts to avoid (earlier failed attempts). */
  ignoreHosts: string[];
  /** A host requested by an admin (2.74), or null. */
  requestedHost: string | null;
  requestedNode: string | null;
}

/** A filter says whether a host can take the request: a small pure function, one per file. */
export interface HostFilter {
  name: string;
  passes(host: HostState, spec: RequestSpec): boolean;
}

/** A weigher scores a host (higher is preferred); scores are normalised before the multiplier. */
export interface HostWeigher {
  name: string;
  multiplier: number;
  weigh(host: HostState, spec: RequestSpec): number;
}
