import type { HostConfig } from '../config/index.js';

/** A host CPU as the hypervisor reports it (the shape of Nova's `cpu_info`). */
export interface CpuInfo {
  arch: string;
  model: string;
  vendor: string;
  features: string[];
  topology: { cores: number; threads: number; sockets: number };
}

/**
 * x86 CPU models from oldest to newest, as libvirt names them; a newer model
 * can run a guest created for an older one.
 */
const MODELS = [
  'qemu64', 'kvm64', 'Conroe', 'Penryn', 'Nehalem', 'Westmere', 'SandyBridge', 'IvyBridge', 'Haswell', 'Broadwell',
  'Skylake-Client', 'Skylake-Server', 'Cascadelake-Server', 'Icelake-Server', 'SapphireRapids', 'GraniteRapids',
];

export function hostCpuInfo(h: Pick<HostConfig, 'cpu_model' | 'cpu_vendor' | 'cpu_features' | 'vcpus'> & Partial<Pick<HostConfig, 'cpu_arch'>>): CpuInfo {
  return {
    arch: h.cpu_arch ?? 'x86_64',
    model: h.cpu_model,
    vendor: h.cpu_vendor,
    features: [...h.cpu_features].sort(),
    topology: { cores: h.vcpus, threads: 1, sockets: 1 },
  };
}

/**
 * libvirt's CPU comparison of a guest CPU (`guest`, the source host's) with
 * this host's (`host`): 0 incompatible, 1 identical, 2 the host is a superset.
 */
export function compareCpu(host: Partial<CpuInfo>, guest: Partial<CpuInfo>): 0 | 1 | 2 {
  const hostFeatures = host.features ?? [];
  if (guest.arch !== undefined && guest.arch !== host.arch) return 0;
  if (guest.vendor !== undefined && guest.vendor !== host.vendor) return 0;
  const missing = (guest.features ?? []).filter((f) => !hostFeatures.includes(f));
  if (missing.length > 0) return 0;
  const g = guest.model === undefined ? -1 : MODELS.indexOf(guest.model);
  const h = host.model === undefined ? -1 : MODELS.indexOf(host.model);
  if (guest.model !== undefined && guest.model !== host.model && (g < 0 || h < 0 || h < g)) return 0;
  const same = guest.model === host.model && (guest.features ?? []).length === hostFeatures.length;
  return same ? 1 : 2;
}

/** What a simulated host's hypervisor can run: its architecture, the fake hypervisor type, HVM guests (Nova's supported_instances). */
export function supportedInstances(h: Pick<HostConfig, 'cpu_arch'>): [string, string, string][] {
  return [[h.cpu_arch, 'fake', 'hvm']];
}
