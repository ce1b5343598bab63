import { ADMIN } from '../../policy/base.js';
import type { PolicyDefault } from '../../policy/types.js';

const rule = (what: string): string => `os_compute_api:os-hypervisors:${what}`;

export const HV_POLICY = {
  list: rule('list'),
  listDetail: rule('list-detail'),
  statistics: rule('statistics'),
  show: rule('show'),
  uptime: rule('uptime'),
  search: rule('search'),
  servers: rule('servers'),
} as const;

const op = (path: string) => [{ method: 'GET', path }];

export const hypervisorPolicies: PolicyDefault[] = [
  { name: HV_POLICY.list, check: ADMIN, description: 'List all hypervisors.', operations: op('/os-hypervisors') },
  { name: HV_POLICY.listDetail, check: ADMIN, description: 'List all hypervisors with details', operations: op('/os-hypervisors/details') },
  { name: HV_POLICY.statistics, check: ADMIN, description: 'Show summary statistics for all hypervisors over all compute nodes (before 2.88).', operations: op('/os-hypervisors/statistics') },
  { name: HV_POLICY.show, check: ADMIN, description: 'Show details for a hypervisor.', operations: op('/os-hypervisors/{hypervisor_id}') },
  { name: HV_POLICY.uptime, check: ADMIN, description: 'Show the uptime of a hypervisor (before 2.88).', operations: op('/os-hypervisors/{hypervisor_id}/uptime') },
  { name: HV_POLICY.search, check: ADMIN, description: 'Search hypervisor by hypervisor_hostname pattern (before 2.53).', operations: op('/os-hypervisors/{hypervisor_hostname_pattern}/search') },
  { name: HV_POLICY.servers, check: ADMIN, description: 'List all servers on hypervisors that match the hostname pattern (before 2.53).', operations: op('/os-hypervisors/{hypervisor_hostname_pattern}/servers') },
];
