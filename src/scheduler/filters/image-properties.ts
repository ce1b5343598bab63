import type { HostFilter, ImageRequirements } from '../types.js';

/** Nova's canonical names (nova/objects/fields.py Architecture, HVType, VMMode canonicalize). */
const ARCH_ALIASES: Record<string, string> = { amd64: 'x86_64', x64: 'x86_64', i386: 'i686', i486: 'i686', i586: 'i686', x86: 'i686', arm64: 'aarch64' };
const HV_ALIASES: Record<string, string> = { xapi: 'xen' };
const MODE_ALIASES: Record<string, string> = { hv: 'hvm', pv: 'xen', baremetal: 'hvm' };

const canon = (aliases: Record<string, string>, v: string | undefined): string | undefined => {
  if (v === undefined) return undefined;
  const low = v.toLowerCase();
  return aliases[low] ?? low;
};

/** Whether one [arch, hv type, vm mode] the host supports satisfies the image. */
export function supports(entry: readonly [string, string, string], want: ImageRequirements): boolean {
  const arch = canon(ARCH_ALIASES, want.architecture);
  const hv = canon(HV_ALIASES, want.hypervisorType);
  const mode = canon(MODE_ALIASES, want.vmMode);
  return (arch === undefined || arch === entry[0]) && (hv === undefined || hv === entry[1]) && (mode === undefined || mode === entry[2]);
}

/**
 * An image that names an architecture, hypervisor type or vm mode goes to a
 * host whose hypervisor supports that combination; an image that names
 * none goes anywhere.
 */
export const imagePropertiesFilter: HostFilter = {
  name: 'ImagePropertiesFilter',
  passes: (h, s) => {
    const want = s.image;
    if (!want || (want.architecture === undefined && want.hypervisorType === undefined && want.vmMode === undefined)) return true;
    return (h.supportedInstances ?? []).some((e) => supports(e, want));
  },
};
