import type { RouteDef } from '../../api/route.js';
import type { ComputeDeps } from '../deps.js';
import { availabilityZoneRoutes } from './availability-zones.js';
import { flavorRoutes } from './flavors.js';
import { keypairRoutes } from './keypairs.js';
import { limitRoutes } from './limits.js';
import { quotaSetRoutes } from './quota-sets.js';

/** Flavors, keypairs, limits, quota sets, availability zones. */
export function resourceRoutes(deps: ComputeDeps): RouteDef[] {
  return [
    ...flavorRoutes(deps),
    ...keypairRoutes(deps),
    ...limitRoutes(deps),
    ...quotaSetRoutes(deps),
    ...availabilityZoneRoutes(deps),
  ];
}
