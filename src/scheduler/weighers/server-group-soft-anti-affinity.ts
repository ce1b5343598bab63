import type { HostWeigher } from '../types.js';
import { groupMembersOn } from './server-group-soft-affinity.js';

/** soft-anti-affinity group: prefers hosts holding fewer of the group's members. */
export const serverGroupSoftAntiAffinityWeigher = (multiplier: number): HostWeigher => ({
  name: 'ServerGroupSoftAntiAffinityWeigher',
  multiplier,
  weigh: (h, s) => (s.group?.policy === 'soft-anti-affinity' ? -groupMembersOn(h, s) : 0),
});
