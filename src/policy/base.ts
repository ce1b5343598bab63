import type { PolicyDefault } from './types.js';

/** A rule declared next to the API it guards: name, Nova's default check, and the one operation it covers. */
export function policyRule(name: string, check: string, description: string, method: string, path: string): PolicyDefault {
  return { name, check, description, operations: [{ method, path }] };
}

/** Nova's base rules (new defaults, project scope). */
export const basePolicies: PolicyDefault[] = [
  { name: 'context_is_admin', check: 'role:admin', description: 'Decides what is required for the is_admin:True check.' },
  { name: 'admin_or_owner', check: 'is_admin:True or project_id:%(project_id)s', description: 'Legacy rule: admin or owner.' },
  { name: 'admin_api', check: 'is_admin:True', description: 'Legacy rule: admin only.' },
  { name: 'project_member_api', check: 'role:member and project_id:%(project_id)s', description: 'A member of the project.' },
  { name: 'project_reader_api', check: 'role:reader and project_id:%(project_id)s', description: 'A reader of the project.' },
  { name: 'project_manager_api', check: 'role:manager and project_id:%(project_id)s', description: 'A manager of the project.' },
  { name: 'project_member_or_admin', check: 'rule:project_member_api or rule:context_is_admin', description: 'Member of the project, or admin.' },
  { name: 'project_reader_or_admin', check: 'rule:project_reader_api or rule:context_is_admin', description: 'Reader of the project, or admin.' },
  { name: 'project_manager_or_admin', check: 'rule:project_manager_api or rule:context_is_admin', description: 'Manager of the project, or admin.' },
  { name: 'service_api', check: 'role:service', description: 'A service user.' },
  { name: 'service_or_admin', check: 'rule:service_api or rule:context_is_admin', description: 'A service user, or admin.' },
];

export const ADMIN = 'rule:context_is_admin';
export const PROJECT_READER_OR_ADMIN = 'rule:project_reader_or_admin';
export const PROJECT_MEMBER_OR_ADMIN = 'rule:project_member_or_admin';
export const PROJECT_MANAGER_OR_ADMIN = 'rule:project_manager_or_admin';
export const ANYONE = '@';
