import type { RouteDef } from '../../api/route.js';
import type { ComputeDeps } from '../deps.js';

/** Flavors, keypairs, limits, quota sets, availability zones. */
export function resourceRoutes(_deps: ComputeDeps): RouteDef[] {
  return [];
}
