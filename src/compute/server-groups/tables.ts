import type { Generated } from 'kysely';

/** A server group (Nova's instance_groups row with its single policy and rules). */
export interface ServerGroupRow {
  id: Generated<number>;
  uuid: string;
  name: string;
  project_id: string;
  user_id: string;
  /** affinity, anti-affinity, soft-affinity or soft-anti-affinity. */
  policy: string;
  /** JSON object: {} or {"max_server_per_host": n} (anti-affinity only). */
  rules: string;
  created_at: string;
}

/** A server's membership of a group (Nova's instance_group_member). */
export interface ServerGroupMemberRow {
  id: Generated<number>;
  group_uuid: string;
  instance_uuid: string;
  created_at: string;
}

export interface ServerGroupTables {
  server_groups: ServerGroupRow;
  server_group_members: ServerGroupMemberRow;
}
