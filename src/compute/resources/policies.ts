import { ADMIN, ANYONE, PROJECT_READER_OR_ADMIN } from '../../policy/base.js';
import type { PolicyDefault } from '../../policy/types.js';

const ADMIN_OR_USER = `(${ADMIN}) or user_id:%(user_id)s`;

const op = (method: string, path: string) => [{ method, path }];

/** Policies of flavors, keypairs, limits, quota sets and availability zones (Nova's names and current defaults). */
export const resourcePolicies: PolicyDefault[] = [
  // flavor-manage
  { name: 'os_compute_api:os-flavor-manage:create', check: ADMIN, description: 'Create a flavor', operations: op('POST', '/flavors') },
  { name: 'os_compute_api:os-flavor-manage:update', check: ADMIN, description: 'Update a flavor', operations: op('PUT', '/flavors/{flavor_id}') },
  { name: 'os_compute_api:os-flavor-manage:delete', check: ADMIN, description: 'Delete a flavor', operations: op('DELETE', '/flavors/{flavor_id}') },
  // flavor extra specs
  {
    name: 'os_compute_api:os-flavor-extra-specs:show',
    check: PROJECT_READER_OR_ADMIN,
    description: 'Show an extra spec for a flavor',
    operations: op('GET', '/flavors/{flavor_id}/os-extra_specs/{flavor_extra_spec_key}'),
  },
  {
    name: 'os_compute_api:os-flavor-extra-specs:create',
    check: ADMIN,
    description: 'Create extra specs for a flavor',
    operations: op('POST', '/flavors/{flavor_id}/os-extra_specs/'),
  },
  {
    name: 'os_compute_api:os-flavor-extra-specs:update',
    check: ADMIN,
    description: 'Update an extra spec for a flavor',
    operations: op('PUT', '/flavors/{flavor_id}/os-extra_specs/{flavor_extra_spec_key}'),
  },
  {
    name: 'os_compute_api:os-flavor-extra-specs:delete',
    check: ADMIN,
    description: 'Delete an extra spec for a flavor',
    operations: op('DELETE', '/flavors/{flavor_id}/os-extra_specs/{flavor_extra_spec_key}'),
  },
  {
    name: 'os_compute_api:os-flavor-extra-specs:index',
    check: PROJECT_READER_OR_ADMIN,
    description: 'List extra specs for a flavor. Starting with microversion 2.61, extra specs may be returned in responses for the flavor resource.',
    operations: [
      { method: 'GET', path: '/flavors/{flavor_id}/os-extra_specs/' },
      { method: 'POST', path: '/flavors' },
      { method: 'GET', path: '/flavors/detail' },
      { method: 'GET', path: '/flavors/{flavor_id}' },
      { method: 'PUT', path: '/flavors/{flavor_id}' },
    ],
  },
  // flavor access
  {
    name: 'os_compute_api:os-flavor-access:add_tenant_access',
    check: ADMIN,
    description: 'Add flavor access to a tenant',
    operations: op('POST', '/flavors/{flavor_id}/action (addTenantAccess)'),
  },
  {
    name: 'os_compute_api:os-flavor-access:remove_tenant_access',
    check: ADMIN,
    description: 'Remove flavor access from a tenant',
    operations: op('POST', '/flavors/{flavor_id}/action (removeTenantAccess)'),
  },
  {
    name: 'os_compute_api:os-flavor-access',
    check: ADMIN,
    description: 'List flavor access information',
    operations: op('GET', '/flavors/{flavor_id}/os-flavor-access'),
  },
  // keypairs
  { name: 'os_compute_api:os-keypairs:index', check: ADMIN_OR_USER, description: 'List all keypairs', operations: op('GET', '/os-keypairs') },
  { name: 'os_compute_api:os-keypairs:create', check: ADMIN_OR_USER, description: 'Create a keypair', operations: op('POST', '/os-keypairs') },
  {
    name: 'os_compute_api:os-keypairs:delete',
    check: ADMIN_OR_USER,
    description: 'Delete a keypair',
    operations: op('DELETE', '/os-keypairs/{keypair_name}'),
  },
  {
    name: 'os_compute_api:os-keypairs:show',
    check: ADMIN_OR_USER,
    description: 'Show details of a keypair',
    operations: op('GET', '/os-keypairs/{keypair_name}'),
  },
  // limits
  { name: 'os_compute_api:limits', check: ANYONE, description: 'Show rate and absolute limits for the current user project', operations: op('GET', '/limits') },
  {
    name: 'os_compute_api:limits:other_project',
    check: ADMIN,
    description: 'Show rate and absolute limits of other project',
    operations: op('GET', '/limits'),
  },
  // quota sets
  { name: 'os_compute_api:os-quota-sets:update', check: ADMIN, description: 'Update the quotas', operations: op('PUT', '/os-quota-sets/{tenant_id}') },
  {
    name: 'os_compute_api:os-quota-sets:defaults',
    check: ANYONE,
    description: 'List default quotas',
    operations: op('GET', '/os-quota-sets/{tenant_id}/defaults'),
  },
  { name: 'os_compute_api:os-quota-sets:show', check: PROJECT_READER_OR_ADMIN, description: 'Show a quota', operations: op('GET', '/os-quota-sets/{tenant_id}') },
  { name: 'os_compute_api:os-quota-sets:delete', check: ADMIN, description: 'Revert quotas to defaults', operations: op('DELETE', '/os-quota-sets/{tenant_id}') },
  {
    name: 'os_compute_api:os-quota-sets:detail',
    check: PROJECT_READER_OR_ADMIN,
    description: 'Show the detail of quota',
    operations: op('GET', '/os-quota-sets/{tenant_id}/detail'),
  },
  // availability zones
  {
    name: 'os_compute_api:os-availability-zone:list',
    check: ANYONE,
    description: 'List availability zone information without host information',
    operations: op('GET', '/os-availability-zone'),
  },
  {
    name: 'os_compute_api:os-availability-zone:detail',
    check: ADMIN,
    description: 'List detailed availability zone information with host information',
    operations: op('GET', '/os-availability-zone/detail'),
  },
];
