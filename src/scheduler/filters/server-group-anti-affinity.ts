import type { HostFilter } from '../types.js';

/** anti-affinity group: a host takes a member only while it holds fewer than max_server_per_host (default 1) of them. */
export const serverGroupAntiAffinityFilter: HostFilter = {
  name: 'ServerGroupAntiAffinityFilter',
  passes: (h, s) => {
    if (s.group?.policy !== 'anti-affinity') return true;
    const onHost = (s.groupHosts ?? []).filter((x) => x === h.host).length;
    return onHost < s.group.maxServerPerHost;
  },
};
