import type { HostFilter } from '../types.js';

/** Hosts that already failed this request, and hosts other than an explicitly requested one, are out. */
export const ignoreHostsFilter: HostFilter = {
  name: 'IgnoreHostsFilter',
  passes: (h, s) =>
    !s.ignoreHosts.includes(h.host) &&
    (s.requestedHost === null || s.requestedHost === h.host) &&
    (s.requestedNode === null || s.requestedNode === h.node),
};
