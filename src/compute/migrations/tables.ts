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
  /** The flavors' API ids (Nova shows instance_type ids; ours are the flavorids). */
  old_instance_type_id: string | null;
  new_instance_type_id: string | null;
  /** pre-migrating, migrating, post-migrating, finished, confirming, confirmed, reverting, reverted, error. */
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
  created_at: string;
  updated_at: string | null;
  deleted_at: string | null;
  deleted: number;
}

export interface MigrationTables {
  migrations: MigrationRow;
}
