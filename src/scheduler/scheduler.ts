import { availabilityZoneFilter } from './filters/availability-zone.js';
import { computeFilter } from './filters/compute.js';
import { imagePropertiesFilter } from './filters/image-properties.js';
import { ignoreHostsFilter } from './filters/ignore-hosts.js';
import { resourcesFilter } from './filters/resources.js';
import { differentHostFilter } from './filters/different-host.js';
import { sameHostFilter } from './filters/same-host.js';
import { serverGroupAffinityFilter } from './filters/server-group-affinity.js';
import { serverGroupAntiAffinityFilter } from './filters/server-group-anti-affinity.js';
import { cpuWeigher } from './weighers/cpu.js';
import { ramWeigher } from './weighers/ram.js';
import { serverGroupSoftAffinityWeigher } from './weighers/server-group-soft-affinity.js';
import { serverGroupSoftAntiAffinityWeigher } from './weighers/server-group-soft-anti-affinity.js';
import type { HostFilter, HostState, HostWeigher, RequestSpec } from './types.js';

export const defaultFilters: HostFilter[] = [
  computeFilter,
  ignoreHostsFilter,
  availabilityZoneFilter,
  resourcesFilter,
  imagePropertiesFilter,
  sameHostFilter,
  differentHostFilter,
  serverGroupAffinityFilter,
  serverGroupAntiAffinityFilter,
];
/** The weigher multipliers (Nova's [filter_scheduler] options of the same names). */
export interface WeightMultipliers {
  ram_weight_multiplier: number;
  cpu_weight_multiplier: number;
  soft_affinity_weight_multiplier: number;
  soft_anti_affinity_weight_multiplier: number;
}

/** The weighers with the configured multipliers: RAM and CPU spread when positive, stack when negative. */
export function weighersFor(m: WeightMultipliers): HostWeigher[] {
  return [
    ramWeigher(m.ram_weight_multiplier),
    cpuWeigher(m.cpu_weight_multiplier),
    serverGroupSoftAffinityWeigher(m.soft_affinity_weight_multiplier),
    serverGroupSoftAntiAffinityWeigher(m.soft_anti_affinity_weight_multiplier),
  ];
}

/** Nova's default multipliers: 1.0 each. */
export const defaultWeighers: HostWeigher[] = weighersFor({
  ram_weight_multiplier: 1.0,
  cpu_weight_multiplier: 1.0,
  soft_affinity_weight_multiplier: 1.0,
  soft_anti_affinity_weight_multiplier: 1.0,
});

/**
 * Picks hosts for a request: filter, then weigh (each weigher's scores
 * normalised to 0..1 across the candidates, times its multiplier), best first.
 * Returns the ordered candidates: the first is the choice, the rest are alternates.
 */
export function selectHosts(
  hosts: HostState[],
  spec: RequestSpec,
  filters: HostFilter[] = defaultFilters,
  weighers: HostWeigher[] = defaultWeighers,
): HostState[] {
  const passing = hosts.filter((h) => filters.every((f) => f.passes(h, spec)));
  if (passing.length <= 1) return passing;
  const totals = new Map<HostState, number>(passing.map((h) => [h, 0]));
  for (const w of weighers) {
    const raw = passing.map((h) => w.weigh(h, spec));
    const min = Math.min(...raw);
    const max = Math.max(...raw);
    passing.forEach((h, i) => {
      const v = raw[i] ?? 0;
      const norm = max === min ? 0 : (v - min) / (max - min);
      totals.set(h, (totals.get(h) ?? 0) + norm * w.multiplier);
    });
  }
  return [...passing].sort((a, b) => (totals.get(b) ?? 0) - (totals.get(a) ?? 0) || a.host.localeCompare(b.host));
}
