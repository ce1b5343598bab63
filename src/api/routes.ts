import type { ComputeDeps } from '../compute/deps.js';
import { consoleRoutes } from '../compute/consoles/routes.js';
import { instanceActionRoutes } from '../compute/instance-actions/routes.js';
import { floatingIpRoutes } from '../compute/network-proxy/floating-ips.js';
import { securityGroupRoutes } from '../compute/network-proxy/security-groups.js';
import { resourceRoutes } from '../compute/resources/routes.js';
import { serverRoutes } from '../compute/servers/routes.js';
import type { RouteDef } from './route.js';
import { faultInjectionRoutes, type HostSwitch } from '../compute/fault-injection/routes.js';
import { servicesRoutes } from '../compute/os-services/routes.js';
import { hypervisorRoutes } from '../compute/hypervisors/routes.js';
import { serverGroupRoutes } from '../compute/server-groups/routes.js';
import type { FakeDriver } from '../virt/fake/driver.js';
import { migrationRoutes } from '../compute/migrations/routes.js';
import { aggregateRoutes } from '../compute/aggregates/routes.js';

/** The compute route table (Nova's ROUTE_LIST): every route, registered once. */
export function computeRoutes(deps: ComputeDeps, drivers: ReadonlyMap<string, FakeDriver>, hosts?: HostSwitch): RouteDef[] {
  return [
    ...serverRoutes(deps),
    ...resourceRoutes(deps),
    ...instanceActionRoutes(deps),
    ...consoleRoutes(deps),
    ...securityGroupRoutes(deps),
    ...floatingIpRoutes(deps),
    ...faultInjectionRoutes(deps, drivers, hosts),
    ...servicesRoutes(deps),
    ...hypervisorRoutes(deps),
    ...migrationRoutes(deps),
    ...serverGroupRoutes(deps),
    ...aggregateRoutes(deps),
  ];
}
