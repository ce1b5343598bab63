import type { HostFilter } from '../types.js';

/** scheduler hint same_host: the host must hold one of the named servers. */
export const sameHostFilter: HostFilter = {
  name: 'SameHostFilter',
  passes: (h, s) => {
    const wanted = s.sameHost ?? [];
    if (wanted.length === 0) return true;
    const here = h.instanceUuids;
    return here !== undefined && wanted.some((u) => here.has(u));
  },
};
