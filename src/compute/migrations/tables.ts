import type { Generated } from 'kysely';

/** Nova's `migrations` table: one row per resize, cold or live migration or evacuation. */
export interface MigrationRow {
  id: Generated<number>;
  uuid: string;
  instance_uuid: string;
  source_compute: string | null;
  dest_compute: string | null;
  source_node: string | null;
  dest_node: string | null;
  dest_host: string | null;
  /** The flavors' internal ids (Nova's instance_type_id), as text; null when the flavor is gone. */
  old_instance_type_id: string | null;
  new_instance_type_id: string | null;
  /**
   * resize/migration: pre-migrating, migrating, post-migrating, finished, confirming, confirmed, reverting, reverted, error.
   * live-migration: accepted, queued, preparing, running, post-migrating, completed, cancelled, error, failed.
   * evacuation: accepted, pre-migrating, done, completed, failed, error.
   */
  status: string;
  /** resize | migration | live-migration | evacuation */
  migration_type: string;
  hidden: number;
  /** Internal: JSON FlavorSnapshot of the old and new flavor, and the vm_state to return to on revert. */
  old_flavor: string;
  new_flavor: string;
  old_vm_state: string;
  project_id: string | null;
  user_id: string | null;
  cross_cell_move: number;
  /** Live migration progress in bytes (null for other moves). */
  memory_total: number | null;
  memory_processed: number | null;
  memory_remaining: number | null;
  disk_total: number | null;
  disk_processed: number | null;
  disk_remaining: number | null;
  created_at: string;
  updated_at: string | null;
  deleted_at: string | null;
  deleted: number;
}

export interface MigrationTables {
  migrations: MigrationRow;
}
