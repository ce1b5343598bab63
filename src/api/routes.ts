import type { ComputeDeps } from '../compute/deps.js';
import { resourceRoutes } from '../compute/resources/routes.js';
import { serverRoutes } from '../compute/servers/routes.js';
import type { RouteDef } from './route.js';

/** The compute route table (Nova's ROUTE_LIST): every route, registered once. */
export function computeRoutes(deps: ComputeDeps): RouteDef[] {
  return [...serverRoutes(deps), ...resourceRoutes(deps)];
}
