/**
 * Keystone's rules for the subset served here. `identity:*` rules may be
 * overridden from the policy file (config.policy_file) like Nova's.
 */
const ADMIN = 'rule:admin_required';

const rules: [string, string][] = [
  ['admin_required', 'role:admin'],
  ['service_role', 'role:service'],
  ['owner', 'user_id:%(target.user.id)s'],
  ['admin_or_owner', 'rule:admin_required or rule:owner'],
  ['token_subject', 'user_id:%(target.token.user_id)s'],
  ['service_admin_or_token_subject', 'rule:admin_required or rule:service_role or rule:token_subject'],

  ['identity:validate_token', 'rule:service_admin_or_token_subject'],
  ['identity:check_token', 'rule:service_admin_or_token_subject'],
  ['identity:revoke_token', 'rule:service_admin_or_token_subject'],
  ['identity:get_auth_catalog', ''],
  ['identity:get_auth_projects', ''],
  ['identity:get_auth_domains', ''],
  ['identity:get_auth_system', ''],

  ['identity:list_projects', ADMIN],
  ['identity:get_project', 'rule:admin_required or project_id:%(target.project.id)s'],
  ['identity:create_project', ADMIN],
  ['identity:update_project', ADMIN],
  ['identity:delete_project', ADMIN],
  ['identity:list_user_projects', 'rule:admin_or_owner'],

  ['identity:list_users', ADMIN],
  ['identity:get_user', 'rule:admin_or_owner'],
  ['identity:create_user', ADMIN],
  ['identity:update_user', ADMIN],
  ['identity:delete_user', ADMIN],
  ['identity:change_password', 'rule:owner'],
  ['identity:list_groups_for_user', 'rule:admin_or_owner'],

  ['identity:list_roles', ADMIN],
  ['identity:get_role', ADMIN],
  ['identity:create_role', ADMIN],
  ['identity:update_role', ADMIN],
  ['identity:delete_role', ADMIN],
  ['identity:list_implied_roles', ADMIN],
  ['identity:get_implied_role', ADMIN],
  ['identity:check_implied_role', ADMIN],
  ['identity:create_implied_role', ADMIN],
  ['identity:delete_implied_role', ADMIN],
  ['identity:list_role_inference_rules', ADMIN],

  ['identity:create_grant', ADMIN],
  ['identity:revoke_grant', ADMIN],
  ['identity:check_grant', ADMIN],
  ['identity:list_grants', ADMIN],
  ['identity:list_role_assignments', 'rule:admin_required or user_id:%(filter.user.id)s'],

  ['identity:list_domains', ADMIN],
  ['identity:get_domain', 'rule:admin_required or project_domain_id:%(target.domain.id)s or domain_id:%(target.domain.id)s'],
  ['identity:create_domain', ADMIN],
  ['identity:update_domain', ADMIN],
  ['identity:delete_domain', ADMIN],

  ['identity:list_services', ADMIN],
  ['identity:get_service', ADMIN],
  ['identity:list_endpoints', ADMIN],
  ['identity:get_endpoint', ADMIN],
  ['identity:list_regions', ''],
  ['identity:get_region', ''],
];

export const identityPolicies: { name: string; check: string }[] = rules.map(([name, check]) => ({ name, check }));

/** Only `identity:*` overrides apply to Keystone (the file also holds Nova's rules). */
export function identityOverrides(all: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(all).filter(([k]) => k.startsWith('identity:')));
}
