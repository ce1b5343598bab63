import type { ComputeRequest, Reply, RouteDef } from '../../api/route.js';
import { isUp, listServices, serviceTime } from '../os-services/repo.js';
import type { ComputeDeps } from '../deps.js';
import { hostZone } from '../aggregates/repo.js';
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
  updated_at: string | null;
}

/** Zone name -> compute hosts in it, from the configured hosts and the zones their aggregates name (sorted). */
export function zonesOf(deps: ComputeDeps): Map<string, string[]> {
  const zones = new Map<string, string[]>();
  for (const h of deps.config.compute.hosts) {
    const zone = hostZone(deps, h.name);
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

/** From the services (os-services): enabled ones listed under their zone; a zone whose services are all disabled is not available. */
async function detail(deps: ComputeDeps, req: ComputeRequest): Promise<Reply> {
  authorize(deps, req, AZ_POLICY.detail, {});
  const services = await listServices(deps.db);
  const now = deps.clock.now();
  const zones = new Map<string, Record<string, Record<string, ServiceState>>>();
  for (const s of services.filter((x) => !x.disabled)) {
    const hosts = zones.get(s.availability_zone) ?? {};
    const binaries = hosts[s.host] ?? {};
    binaries[s.binary] = { available: isUp(s, now, deps.config.compute.service_down_time), active: true, updated_at: serviceTime(s.updated_at) };
    hosts[s.host] = binaries;
    zones.set(s.availability_zone, hosts);
  }
  const byName = (a: string, b: string) => (a === INTERNAL_ZONE ? -1 : b === INTERNAL_ZONE ? 1 : a < b ? -1 : a > b ? 1 : 0);
  const info: Record<string, unknown>[] = [...zones.keys()].sort(byName).map((zoneName) => ({ zoneName, zoneState: { available: true }, hosts: zones.get(zoneName) ?? {} }));
  const unavailable = [...new Set(services.filter((x) => x.disabled && !zones.has(x.availability_zone)).map((x) => x.availability_zone))].sort(byName);
  for (const zoneName of unavailable) info.push({ zoneName, zoneState: { available: false }, hosts: null });
  return { status: 200, body: { availabilityZoneInfo: info } };
}

export function availabilityZoneRoutes(deps: ComputeDeps): RouteDef[] {
  return [
    { method: 'GET', path: '/os-availability-zone', query: strictFrom2102Query, handler: (req) => summary(deps, req) },
    { method: 'GET', path: '/os-availability-zone/detail', query: strictFrom2102Query, handler: (req) => detail(deps, req) },
  ];
}
