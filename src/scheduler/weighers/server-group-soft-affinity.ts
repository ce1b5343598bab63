import type { HostState, HostWeigher, RequestSpec } from '../types.js';

/** How many of the group's placed members a host holds. */
export function groupMembersOn(h: HostState, s: RequestSpec): number {
  return (s.groupHosts ?? []).filter((x) => x === h.host).length;
}

/** soft-affinity group: prefers hosts holding more of the group's members. */
export const serverGroupSoftAffinityWeigher = (multiplier: number): HostWeigher => ({
  name: 'ServerGroupSoftAffinityWeigher',
  multiplier,
  weigh: (h, s) => (s.group?.policy === 'soft-affinity' ? groupMembersOn(h, s) : 0),
});
