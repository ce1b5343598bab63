import type { HostFilter } from '../types.js';

/** affinity group: once a member is placed, every other member goes to a host of the placed ones. */
export const serverGroupAffinityFilter: HostFilter = {
  name: 'ServerGroupAffinityFilter',
  passes: (h, s) => {
    if (s.group?.policy !== 'affinity') return true;
    const hosts = s.groupHosts ?? [];
    return hosts.length === 0 || hosts.includes(h.host);
  },
};
