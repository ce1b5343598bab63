import type { Generated } from 'kysely';

export interface FlavorRow {
  id: Generated<number>;
  /** The API id (`flavorid`): a string such as "1" or a UUID. */
  flavorid: string;
  name: string;
  vcpus: number;
  memory_mb: number;
  root_gb: number;
  ephemeral_gb: number;
  swap: number;
  rxtx_factor: number;
  is_public: number;
  disabled: number;
  description: string | null;
  created_at: string;
  updated_at: string | null;
}

export interface FlavorExtraSpecRow {
  flavorid: string;
  key: string;
  value: string;
}

export interface FlavorProjectRow {
  flavorid: string;
  project_id: string;
}

export interface KeypairRow {
  id: Generated<number>;
  name: string;
  user_id: string;
  fingerprint: string;
  public_key: string;
  type: string;
  created_at: string;
}

/** Per-project (and optionally per-user) quota limits overriding the configured defaults. */
export interface QuotaRow {
  project_id: string;
  /** '' for a project-wide limit. */
  user_id: string;
  resource: string;
  hard_limit: number;
}

export interface ComputeResourceTables {
  flavors: FlavorRow;
  flavor_extra_specs: FlavorExtraSpecRow;
  flavor_projects: FlavorProjectRow;
  keypairs: KeypairRow;
  quotas: QuotaRow;
}
