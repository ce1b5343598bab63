/** Keystone's tables: a flat subset (no groups, no hierarchy below domains). */

export interface DomainsTable {
  id: string;
  name: string;
  description: string;
  enabled: number;
  /** JSON object of extra attributes. */
  extra: string;
  created_at: string;
}

export interface ProjectsTable {
  id: string;
  name: string;
  domain_id: string;
  description: string;
  enabled: number;
  /** JSON array of tags. */
  tags: string;
  /** JSON object of extra attributes. */
  extra: string;
  created_at: string;
}

export interface UsersTable {
  id: string;
  name: string;
  domain_id: string;
  enabled: number;
  /** `scrypt$N$r$p$salt$hash`, or null for a user who cannot use the password method. */
  password_hash: string | null;
  default_project_id: string | null;
  /** JSON object of extra attributes (email, description, ...). */
  extra: string;
  created_at: string;
}

export interface RolesTable {
  id: string;
  name: string;
  /** '' for a global role (Keystone's NULL_DOMAIN_ID). */
  domain_id: string;
  description: string;
  extra: string;
}

export interface ImpliedRolesTable {
  prior_role_id: string;
  implied_role_id: string;
}

export interface RoleAssignmentsTable {
  /** 'project' or 'domain'. */
  target_type: string;
  target_id: string;
  actor_id: string;
  role_id: string;
}

export interface TokensTable {
  /** sha256 hex of the token id. */
  id_hash: string;
  user_id: string;
  project_id: string | null;
  domain_id: string | null;
  /** JSON array of method names. */
  methods: string;
  audit_id: string;
  /** Audit id of the token this one was rescoped from, or its own. */
  audit_chain_id: string;
  /** Milliseconds since the epoch. */
  issued_at: number;
  expires_at: number;
  revoked: number;
}

export interface IdentityTables {
  domains: DomainsTable;
  projects: ProjectsTable;
  users: UsersTable;
  roles: RolesTable;
  implied_roles: ImpliedRolesTable;
  role_assignments: RoleAssignmentsTable;
  tokens: TokensTable;
}
