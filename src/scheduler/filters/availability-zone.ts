import type { HostFilter } from '../types.js';

/** A server that asked for a zone goes to a host of that zone. */
export const availabilityZoneFilter: HostFilter = {
  name: 'AvailabilityZoneFilter',
  passes: (h, s) => s.availabilityZone === null || s.availabilityZone === h.availabilityZone,
};
