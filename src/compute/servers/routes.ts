import type { RouteDef } from '../../api/route.js';
import type { ComputeDeps } from '../deps.js';

export function serverRoutes(_deps: ComputeDeps): RouteDef[] {
  return [];
}
