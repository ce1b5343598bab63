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
  /** The uuids of the live servers placed on the host (same_host / different_host / group filters). */
  instanceUuids?: ReadonlySet<string>;
  /** What the hypervisor can run: [architecture, hypervisor type, vm mode] (ImagePropertiesFilter). */
  supportedInstances?: readonly (readonly [string, string, string])[];
}

/** What the server's image requires of a host (its hw_architecture, img_hv_type and hw_vm_mode properties). */
export interface ImageRequirements {
  architecture?: string;
  hypervisorType?: string;
  vmMode?: string;
}

/** The server group a request belongs to, as the group filters and weighers read it. */
export interface GroupSpec {
  uuid: string;
  policy: 'affinity' | 'anti-affinity' | 'soft-affinity' | 'soft-anti-affinity';
  /** anti-affinity's rule (default 1). */
  maxServerPerHost: number;
  /** The group's other live members (not the server being placed). */
  members: string[];
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
  /** scheduler hint same_host: servers whose host the server must share (empty: no constraint). */
  sameHost?: string[];
  /** scheduler hint different_host: servers whose hosts the server must avoid. */
  differentHost?: string[];
  /** The server group (scheduler hint `group`), when the server is in one. */
  group?: GroupSpec | null;
  /** The image's requirements, when it has any. */
  image?: ImageRequirements;
  /**
   * Hosts of the group's placed members, one entry per member (a host
   * repeats when it holds several); filled by the conductor.
   */
  groupHosts?: string[];
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
