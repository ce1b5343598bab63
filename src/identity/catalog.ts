import { createHash } from 'node:crypto';

/** A service in the catalog; its endpoint URL is `<base><path>` for every interface. */
export interface CatalogService {
  type: string;
  name: string;
  description: string;
  /** Path under the public base URL, e.g. `/compute/v2.1`. */
  path: string;
}

/** The services this process serves (DevStack's layout: path-based endpoints on one host). */
export const DEFAULT_SERVICES: CatalogService[] = [
  { type: 'compute', name: 'nova', description: 'Nova Compute Service', path: '/compute/v2.1' },
  { type: 'image', name: 'glance', description: 'Glance Image Service', path: '/image' },
  { type: 'identity', name: 'keystone', description: 'Keystone Identity Service', path: '/identity' },
];

export const INTERFACES = ['public', 'internal', 'admin'] as const;

/** Stable 32-hex ids derived from the service type (and interface), so they survive restarts. */
const stableId = (key: string): string => createHash('sha256').update(`stratus:${key}`).digest('hex').slice(0, 32);

export interface Endpoint {
  id: string;
  interface: string;
  region: string;
  region_id: string;
  url: string;
  service_id: string;
}

export interface Service {
  id: string;
  type: string;
  name: string;
  description: string;
  endpoints: Endpoint[];
}

/** The catalog for a given public base URL (no trailing slash). */
export function buildServices(services: CatalogService[], base: string, region: string): Service[] {
  return services.map((s) => {
    const id = stableId(`service:${s.type}`);
    return {
      id,
      type: s.type,
      name: s.name,
      description: s.description,
      endpoints: INTERFACES.map((iface) => ({
        id: stableId(`endpoint:${s.type}:${iface}`),
        interface: iface,
        region,
        region_id: region,
        url: `${base}${s.path}`,
        service_id: id,
      })),
    };
  });
}

/** The `catalog` of a token response. */
export function tokenCatalog(services: Service[]): unknown[] {
  return services.map((s) => ({
    endpoints: s.endpoints.map((e) => ({ id: e.id, interface: e.interface, region: e.region, region_id: e.region_id, url: e.url })),
    id: s.id,
    type: s.type,
    name: s.name,
  }));
}
