import { randomUUID } from 'node:crypto';
import type { Selectable } from 'kysely';
import type { Db } from '../../db/index.js';
import type { FlavorSnapshot } from '../resources/flavors-repo.js';
import type { MigrationRow } from './tables.js';

export type Migration = Selectable<MigrationRow>;

/**
 * Migration statuses during which a resize or cold migration holds capacity
 * on the host the server's `host` column does not name (see host-states.ts):
 * before the finish the destination holds the new flavor; once finished
 * (VERIFY_RESIZE), while confirming or reverting, the source keeps the old one.
 */
export const HOLDS_DEST: readonly string[] = ['migrating', 'post-migrating'];
export const HOLDS_SOURCE: readonly string[] = ['finished', 'confirming', 'reverting'];
/** A live migration holds the flavor on its destination from the pre-checks' success until it completes or fails. */
export const LIVE_HOLDS_DEST: readonly string[] = ['queued', 'preparing', 'running', 'post-migrating'];
/**
 * An evacuation holds the flavor on its destination while it rebuilds there
 * (the server's `host` is still the source); once `done` the server is the
 * destination's and the source keeps the allocation until the old host
 * comes back and cleans up (`completed`).
 */
export const EVACUATION_HOLDS_DEST: readonly string[] = ['pre-migrating'];
export const EVACUATION_HOLDS_SOURCE: readonly string[] = ['done'];
/** Live-migration statuses Nova calls in progress (GET /servers/{id}/migrations). */
export const LIVE_IN_PROGRESS: readonly string[] = ['queued', 'preparing', 'running', 'post-migrating'];

export interface NewMigration {
  instanceUuid: string;
  sourceCompute: string;
  sourceNode: string | null;
  oldFlavor: FlavorSnapshot;
  newFlavor: FlavorSnapshot;
  oldVmState: string;
  migrationType: 'resize' | 'migration' | 'live-migration' | 'evacuation';
  projectId: string;
  userId: string;
  now: string;
  /** Default pre-migrating. */
  status?: string;
  destCompute?: string | null;
}

/** A flavor's internal id (Nova's instance_type_id), or null when the flavor is gone. */
async function instanceTypeId(db: Db, flavorid: string): Promise<string | null> {
  const row = await db.selectFrom('flavors').select('id').where('flavorid', '=', flavorid).executeTakeFirst();
  return row ? String(row.id) : null;
}

export async function createMigration(db: Db, m: NewMigration): Promise<Migration> {
  const uuid = randomUUID();
  const oldType = await instanceTypeId(db, m.oldFlavor.flavorid);
  const newType = m.newFlavor.flavorid === m.oldFlavor.flavorid ? oldType : await instanceTypeId(db, m.newFlavor.flavorid);
  await db
    .insertInto('migrations')
    .values({
      uuid,
      instance_uuid: m.instanceUuid,
      source_compute: m.sourceCompute,
      source_node: m.sourceNode,
      dest_compute: m.destCompute ?? null,
      dest_node: null,
      dest_host: null,
      old_instance_type_id: oldType,
      new_instance_type_id: newType,
      status: m.status ?? 'pre-migrating',
      migration_type: m.migrationType,
      hidden: 0,
      old_flavor: JSON.stringify(m.oldFlavor),
      new_flavor: JSON.stringify(m.newFlavor),
      old_vm_state: m.oldVmState,
      project_id: m.projectId,
      user_id: m.userId,
      cross_cell_move: 0,
      created_at: m.now,
      updated_at: m.now,
      deleted_at: null,
      deleted: 0,
    })
    .execute();
  const row = await findMigration(db, uuid);
  if (!row) throw new Error(`migration ${uuid} vanished`);
  return row;
}

export function findMigration(db: Db, uuid: string): Promise<Migration | undefined> {
  return db.selectFrom('migrations').selectAll().where('uuid', '=', uuid).executeTakeFirst();
}

/** The server's latest migration of the given types (default resize and cold migration) in one of `statuses`. */
export function migrationOf(
  db: Db,
  instanceUuid: string,
  statuses: readonly string[],
  types: readonly string[] = ['resize', 'migration'],
): Promise<Migration | undefined> {
  return db
    .selectFrom('migrations')
    .selectAll()
    .where('instance_uuid', '=', instanceUuid)
    .where('migration_type', 'in', [...types])
    .where('status', 'in', [...statuses])
    .orderBy('id', 'desc')
    .executeTakeFirst();
}

/** Sets a migration's status (and other columns), compare-and-swap on the current status when `from` is given. */
export async function setMigration(
  db: Db,
  uuid: string,
  values: Partial<
    Pick<
      Migration,
      'status' | 'dest_compute' | 'dest_node' | 'dest_host' | 'source_node' | 'memory_total' | 'memory_processed' | 'memory_remaining' | 'disk_total' | 'disk_processed' | 'disk_remaining'
    >
  >,
  now: string,
  from?: readonly string[],
): Promise<boolean> {
  let q = db.updateTable('migrations').set({ ...values, updated_at: now }).where('uuid', '=', uuid);
  if (from) q = q.where('status', 'in', [...from]);
  const res = await q.executeTakeFirst();
  return Number(res.numUpdatedRows) > 0;
}

export function flavorJson(s: string): FlavorSnapshot {
  return JSON.parse(s) as FlavorSnapshot;
}

/** Instance columns that carry a flavor. */
export function flavorColumns(f: FlavorSnapshot): { flavor: string; flavor_id: string; vcpus: number; memory_mb: number; root_gb: number; ephemeral_gb: number } {
  return { flavor: JSON.stringify(f), flavor_id: f.flavorid, vcpus: f.vcpus, memory_mb: f.memory_mb, root_gb: f.root_gb, ephemeral_gb: f.ephemeral_gb };
}
