import { sql, type Insertable, type Selectable, type Updateable } from 'kysely';
import type { Db } from '../../db/index.js';
import type { InstanceRow } from '../tables.js';
import type { FlavorSnapshot } from '../resources/flavors-repo.js';

export type Instance = Selectable<InstanceRow>;
export type InstanceUpdate = Updateable<InstanceRow>;


export function flavorOf(i: Instance): FlavorSnapshot {
  return JSON.parse(i.flavor) as FlavorSnapshot;
}

/** The hypervisor-side name Nova derives from the internal id. */
export function instanceName(i: Pick<Instance, 'id'>): string {
  return `instance-${i.id.toString(16).padStart(8, '0')}`;
}

/**
 * Reads one server. `projectId` null means any project (admins);
 * deleted servers are returned only when `readDeleted`.
 */
export async function findInstance(
  db: Db,
  uuid: string,
  opts: { projectId: string | null; readDeleted?: boolean },
): Promise<Instance | undefined> {
  let q = db.selectFrom('instances').selectAll().where('uuid', '=', uuid);
  if (opts.projectId !== null) q = q.where('project_id', '=', opts.projectId);
  if (!opts.readDeleted) q = q.where('deleted', '=', 0);
  return q.executeTakeFirst();
}

export interface InsertInstance {
  row: Insertable<InstanceRow>;
  metadata: Record<string, string>;
  tags: string[];
}

/** Writes new servers with their metadata and tags in one transaction. */
export async function insertInstances(db: Db, items: InsertInstance[]): Promise<void> {
  await db.transaction().execute(async (tx) => {
    for (const it of items) {
      await tx.insertInto('instances').values(it.row).execute();
      const meta = Object.entries(it.metadata).map(([key, value]) => ({ instance_uuid: it.row.uuid, key, value }));
      if (meta.length > 0) await tx.insertInto('instance_metadata').values(meta).execute();
      if (it.tags.length > 0) {
        await tx.insertInto('instance_tags').values(it.tags.map((tag) => ({ instance_uuid: it.row.uuid, tag }))).execute();
      }
    }
  });
}

/**
 * Every write to a server, to its row or to anything its body shows
 * (metadata, tags, addresses, faults), bumps `rev`: rendered bodies are
 * cached by (uuid, rev), so a write that does not bump it serves stale JSON.
 */
const bump = { rev: sql<number>`rev + 1` };

/** Marks a server changed (after writing its metadata, tags, ports...), optionally with more values. */
export async function touchInstance(db: Db, uuid: string, values: InstanceUpdate = {}): Promise<void> {
  await db.updateTable('instances').set({ ...values, ...bump }).where('uuid', '=', uuid).execute();
}

/** Nova's soft-delete convention: the row stays, `deleted` takes the row id. */
export async function markDeleted(db: Db, inst: Pick<Instance, 'id' | 'uuid'>, now: string): Promise<void> {
  await db
    .updateTable('instances')
    .set({
      vm_state: 'deleted',
      task_state: null,
      power_state: 0,
      deleted: inst.id,
      deleted_at: now,
      terminated_at: now,
      updated_at: now,
      ...bump,
    })
    .where('uuid', '=', inst.uuid)
    .where('deleted', '=', 0)
    .execute();
}

export type TaskStateExpectation = readonly (string | null)[] | 'any';

/**
 * Compare-and-swap on task_state: applies `values` only when the server is
 * live and its task_state is one of `expected`. Returns the updated row, or
 * undefined when the server changed underneath (the caller decides: 409 or skip).
 */
export async function casUpdate(
  db: Db,
  uuid: string,
  expected: TaskStateExpectation,
  values: InstanceUpdate,
): Promise<Instance | undefined> {
  let q = db.updateTable('instances').set({ ...values, ...bump }).where('uuid', '=', uuid).where('deleted', '=', 0);
  if (expected !== 'any') {
    const nonNull = expected.filter((t): t is string => t !== null);
    const wantsNull = expected.includes(null);
    q = q.where((eb) => {
      const ors = [];
      if (nonNull.length > 0) ors.push(eb('task_state', 'in', nonNull));
      if (wantsNull) ors.push(eb('task_state', 'is', null));
      return eb.or(ors);
    });
  }
  const res = await q.executeTakeFirst();
  if (Number(res.numUpdatedRows) === 0) return undefined;
  return findInstance(db, uuid, { projectId: null });
}

async function inChunks<T>(ids: string[], fn: (chunk: string[]) => Promise<T[]>): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < ids.length; i += 500) out.push(...(await fn(ids.slice(i, i + 500))));
  return out;
}

export async function metadataOf(db: Db, uuids: string[]): Promise<Map<string, Record<string, string>>> {
  const rows = await inChunks(uuids, (c) => db.selectFrom('instance_metadata').selectAll().where('instance_uuid', 'in', c).execute());
  const out = new Map<string, Record<string, string>>();
  for (const r of rows) {
    const m = out.get(r.instance_uuid) ?? {};
    m[r.key] = r.value;
    out.set(r.instance_uuid, m);
  }
  return out;
}

export async function tagsOf(db: Db, uuids: string[]): Promise<Map<string, string[]>> {
  const rows = await inChunks(uuids, (c) =>
    db.selectFrom('instance_tags').selectAll().where('instance_uuid', 'in', c).orderBy('tag').execute(),
  );
  const out = new Map<string, string[]>();
  for (const r of rows) out.set(r.instance_uuid, [...(out.get(r.instance_uuid) ?? []), r.tag]);
  return out;
}

export interface FaultInfo {
  code: number;
  message: string;
  details: string;
  created_at: string;
}

/** The latest fault of each server. */
export async function faultsOf(db: Db, uuids: string[]): Promise<Map<string, FaultInfo>> {
  const rows = await inChunks(uuids, (c) =>
    db.selectFrom('instance_faults').selectAll().where('instance_uuid', 'in', c).orderBy('id', 'asc').execute(),
  );
  const out = new Map<string, FaultInfo>();
  for (const r of rows) out.set(r.instance_uuid, { code: r.code, message: r.message, details: r.details, created_at: r.created_at });
  return out;
}

export async function recordFault(db: Db, uuid: string, fault: FaultInfo): Promise<void> {
  await db.insertInto('instance_faults').values({ instance_uuid: uuid, ...fault }).execute();
  await touchInstance(db, uuid);
}
