import { policyRule, ADMIN, PROJECT_MEMBER_OR_ADMIN, PROJECT_READER_OR_ADMIN } from '../../policy/base.js';
import type { PolicyDefault } from '../../policy/types.js';

export const SERVER_GROUP_POLICY = {
  index: 'os_compute_api:os-server-groups:index',
  indexAllProjects: 'os_compute_api:os-server-groups:index:all_projects',
  show: 'os_compute_api:os-server-groups:show',
  create: 'os_compute_api:os-server-groups:create',
  delete: 'os_compute_api:os-server-groups:delete',
} as const;

export const serverGroupPolicies: PolicyDefault[] = [
  policyRule(SERVER_GROUP_POLICY.create, PROJECT_MEMBER_OR_ADMIN, 'Create a new server group.', 'POST', '/os-server-groups'),
  policyRule(SERVER_GROUP_POLICY.delete, PROJECT_MEMBER_OR_ADMIN, 'Delete a server group.', 'DELETE', '/os-server-groups/{server_group_id}'),
  policyRule(SERVER_GROUP_POLICY.index, PROJECT_READER_OR_ADMIN, 'List all server groups.', 'GET', '/os-server-groups'),
  policyRule(SERVER_GROUP_POLICY.indexAllProjects, ADMIN, 'List all server groups for all projects.', 'GET', '/os-server-groups'),
  policyRule(SERVER_GROUP_POLICY.show, PROJECT_READER_OR_ADMIN, 'Show details of a server group.', 'GET', '/os-server-groups/{server_group_id}'),
];
