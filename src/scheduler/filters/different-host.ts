import type { HostFilter } from '../types.js';

/** scheduler hint different_host: the host must hold none of the named servers. */
export const differentHostFilter: HostFilter = {
  name: 'DifferentHostFilter',
  passes: (h, s) => {
    const avoid = s.differentHost ?? [];
    const here = h.instanceUuids;
    if (avoid.length === 0 || here === undefined) return true;
    return !avoid.some((u) => here.has(u));
  },
};
