import { hostname } from 'node:os';
import type { ComputeRequest, Reply, RouteDef } from '../../api/route.js';
import { isoMicro } from '../../lib/time.js';
import type { ComputeDeps } from '../deps.js';
import { authorize } from './common.js';
import { strictFrom2102Query } from './flavors.schema.js';

export const AZ_POLICY = {
  list: 'os_compute_api:os-availability-zone:list',
  detail: 'os_compute_api:os-availability-zone:detail',
} as const;

/** Nova's internal_service_availability_zone: where conductor and scheduler live. */
export const INTERNAL_ZONE = 'internal';

interface ServiceState {
  available: boolean;
  active: boolean;
  updated_at: string;
}

/** Zone name -> compute hosts in it, from the configured hosts (sorted). */
export function zonesOf(deps: ComputeDeps): Map<string, string[]> {
  const zones = new Map<string, string[]>();
  for (const h of deps.config.compute.hosts) {
    const zone = h.availability_zone || deps.config.compute.default_availability_zone;
    zones.set(zone, [...(zones.get(zone) ?? []), h.name]);
  }
  return new Map([...zones.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** The zone names a server may ask for (every zone with a compute host). */
export function availabilityZoneNames(deps: ComputeDeps): string[] {
  return [...zonesOf(deps).keys()];
}

function summary(deps: ComputeDeps, req: ComputeRequest): Reply {
  authorize(deps, req, AZ_POLICY.list, {});
  const info = availabilityZoneNames(deps)
    .filter((z) => z !== INTERNAL_ZONE)
    .map((zoneName) => ({ zoneName, zoneState: { available: true }, hosts: null }));
  return { status: 200, body: { availabilityZoneInfo: info } };
}

function detail(deps: ComputeDeps, req: ComputeRequest): Reply {
  authorize(deps, req, AZ_POLICY.detail, {});
  const updated = isoMicro(deps.clock.now());
  const up = (): ServiceState => ({ available: true, active: true, updated_at: updated });
  const info: Record<string, unknown>[] = [
    { zoneName: INTERNAL_ZONE, zoneState: { available: true }, hosts: { [hostname()]: { 'nova-conductor': up(), 'nova-scheduler': up() } } },
  ];
  for (const [zoneName, hosts] of zonesOf(deps)) {
    info.push({ zoneName, zoneState: { available: true }, hosts: Object.fromEntries(hosts.map((h) => [h, { 'nova-compute': up() }])) });
  }
  return { status: 200, body: { availabilityZoneInfo: info } };
}

export function availabilityZoneRoutes(deps: ComputeDeps): RouteDef[] {
  return [
    { method: 'GET', path: '/os-availability-zone', query: strictFrom2102Query, handler: (req) => summary(deps, req) },
    { method: 'GET', path: '/os-availability-zone/detail', query: strictFrom2102Query, handler: (req) => detail(deps, req) },
  ];
}
