import { ADMIN } from '../../policy/base.js';
import type { PolicyDefault } from '../../policy/types.js';

export const SERVICES_POLICY = {
  list: 'os_compute_api:os-services:list',
  update: 'os_compute_api:os-services:update',
  delete: 'os_compute_api:os-services:delete',
} as const;

export const servicesPolicies: PolicyDefault[] = [
  { name: SERVICES_POLICY.list, check: ADMIN, description: 'List all running Compute services in a region.', operations: [{ method: 'GET', path: '/os-services' }] },
  {
    name: SERVICES_POLICY.update,
    check: ADMIN,
    description: 'Update a Compute service.',
    operations: [
      { method: 'PUT', path: '/os-services/enable' },
      { method: 'PUT', path: '/os-services/disable' },
      { method: 'PUT', path: '/os-services/disable-log-reason' },
      { method: 'PUT', path: '/os-services/force-down' },
      { method: 'PUT', path: '/os-services/{service_id}' },
    ],
  },
  { name: SERVICES_POLICY.delete, check: ADMIN, description: 'Delete a Compute service.', operations: [{ method: 'DELETE', path: '/os-services/{service_id}' }] },
];
