import type { Config } from '../../config/index.js';
import type { Db } from '../../db/index.js';
import { Mutex } from '../../lib/mutex.js';

/**
 * Host aggregates as stored: rows of `aggregates` with their hosts (in the
 * order they joined) and metadata. The `availability_zone` metadata key of
 * an aggregate names the zone of its hosts; a host in no such aggregate keeps
 * the zone its configuration gives it.
 */

export const AZ_KEY = 'availability_zone';
const COMPUTE_BINARY = 'nova-compute';

export interface Aggregate {
  id: number;
  uuid: string;
  name: string;
  created_at: string;
  updated_at: string | null;
  hosts: string[];
  metadata: Record<string, string>;
}

export const zoneOfAggregate = (a: Pick<Aggregate, 'metadata'>): string | null => a.metadata[AZ_KEY] ?? null;

/** The aggregates with the given ids (all of them when `ids` is undefined), by id, with hosts and metadata. */
async function load(db: Db, ids?: number[]): Promise<Aggregate[]> {
  if (ids !== undefined && ids.length === 0) return [];
  let q = db.selectFrom('aggregates').selectAll().orderBy('id');
  if (ids !== undefined) q = q.where('id', 'in', ids);
  const rows = await q.execute();
  if (rows.length === 0) return [];
  const wanted = rows.map((r) => r.id);
  const out = new Map<number, Aggregate>(rows.map((r) => [r.id, { ...r, hosts: [], metadata: {} }]));
  const hosts = await db.selectFrom('aggregate_hosts').select(['aggregate_id', 'host']).where('aggregate_id', 'in', wanted).orderBy('id').execute();
  for (const h of hosts) out.get(h.aggregate_id)?.hosts.push(h.host);
  const meta = await db.selectFrom('aggregate_metadata').select(['aggregate_id', 'key', 'value']).where('aggregate_id', 'in', wanted).orderBy('id').execute();
  for (const m of meta) {
    const a = out.get(m.aggregate_id);
    if (a) a.metadata[m.key] = m.value;
  }
  return [...out.values()];
}

export const listAggregates = (db: Db): Promise<Aggregate[]> => load(db);

export async function getAggregate(db: Db, id: number): Promise<Aggregate | null> {
  return (await load(db, [id]))[0] ?? null;
}

export async function findAggregateByName(db: Db, name: string): Promise<{ id: number } | null> {
  return (await db.selectFrom('aggregates').select('id').where('name', '=', name).executeTakeFirst()) ?? null;
}

/** The aggregates one of `hosts` belongs to. */
export async function aggregatesOfHosts(db: Db, hosts: string[]): Promise<Aggregate[]> {
  if (hosts.length === 0) return [];
  const ids = await db.selectFrom('aggregate_hosts').select('aggregate_id').distinct().where('host', 'in', hosts).execute();
  return load(
    db,
    ids.map((r) => r.aggregate_id),
  );
}

export async function insertAggregate(db: Db, a: { uuid: string; name: string; created_at: string; metadata: Record<string, string> }): Promise<number> {
  const row = await db.insertInto('aggregates').values({ uuid: a.uuid, name: a.name, created_at: a.created_at, updated_at: null }).returning('id').executeTakeFirstOrThrow();
  await setMetadata(db, row.id, a.metadata, a.created_at);
  return row.id;
}

export async function renameAggregate(db: Db, id: number, name: string, now: string): Promise<void> {
  await db.updateTable('aggregates').set({ name, updated_at: now }).where('id', '=', id).execute();
}

/** Nova's update_metadata: a null value removes the key, any other value sets it; other keys stay. */
export async function setMetadata(db: Db, id: number, updates: Record<string, string | null>, now: string): Promise<void> {
  for (const [key, value] of Object.entries(updates)) {
    if (value === null) {
      await db.deleteFrom('aggregate_metadata').where('aggregate_id', '=', id).where('key', '=', key).execute();
      continue;
    }
    const existing = await db.selectFrom('aggregate_metadata').select('id').where('aggregate_id', '=', id).where('key', '=', key).executeTakeFirst();
    if (existing) await db.updateTable('aggregate_metadata').set({ value }).where('id', '=', existing.id).execute();
    else await db.insertInto('aggregate_metadata').values({ aggregate_id: id, key, value, created_at: now }).execute();
  }
}

export async function deleteAggregate(db: Db, id: number): Promise<void> {
  await db.deleteFrom('aggregate_metadata').where('aggregate_id', '=', id).execute();
  await db.deleteFrom('aggregate_hosts').where('aggregate_id', '=', id).execute();
  await db.deleteFrom('aggregates').where('id', '=', id).execute();
}

export async function addHost(db: Db, id: number, host: string, now: string): Promise<void> {
  await db.insertInto('aggregate_hosts').values({ aggregate_id: id, host, created_at: now }).execute();
}

/** Whether the host was in the aggregate. */
export async function removeHost(db: Db, id: number, host: string): Promise<boolean> {
  const res = await db.deleteFrom('aggregate_hosts').where('aggregate_id', '=', id).where('host', '=', host).executeTakeFirst();
  return Number(res.numDeletedRows) > 0;
}

/** Live servers placed on each of `hosts` (Nova counts them before a host's zone may change). */
export async function serversOnHosts(db: Db, hosts: string[]): Promise<number> {
  if (hosts.length === 0) return 0;
  const row = await db
    .selectFrom('instances')
    .select((eb) => eb.fn.countAll<number | string | bigint>().as('n'))
    .where('deleted', '=', 0)
    .where('host', 'in', hosts)
    .executeTakeFirst();
  return Number(row?.n ?? 0);
}

/** Aggregate writes run one at a time, so that the zone checks see what the write they guard changes. */
const writers = new WeakMap<Db, Mutex>();
export function aggregateWriter(db: Db): Mutex {
  let m = writers.get(db);
  if (!m) writers.set(db, (m = new Mutex()));
  return m;
}

/* ---- The zone of a compute host ---- */

/**
 * host -> the zone the aggregates it is in name, kept per database and
 * refreshed by every aggregate write and at start (one process owns the
 * database), so that synchronous callers can ask for a host's zone.
 */
const zoneOverrides = new WeakMap<Db, ReadonlyMap<string, string>>();

/** host -> zone from the `availability_zone` metadata of its aggregates (distinct names joined by commas, as Nova shows them). */
async function aggregateZonesByHost(db: Db): Promise<Map<string, string>> {
  const rows = await db
    .selectFrom('aggregate_hosts as h')
    .innerJoin('aggregate_metadata as m', 'm.aggregate_id', 'h.aggregate_id')
    .select(['h.host', 'm.value'])
    .where('m.key', '=', AZ_KEY)
    .orderBy('h.aggregate_id')
    .execute();
  const sets = new Map<string, string[]>();
  for (const r of rows) {
    const list = sets.get(r.host) ?? [];
    if (!list.includes(r.value)) list.push(r.value);
    sets.set(r.host, list);
  }
  return new Map([...sets.entries()].map(([h, zones]) => [h, zones.join(',')]));
}

interface ZoneDeps {
  db: Db;
  config: Config;
}

/** The configured zone of a host (the default zone when the configuration names none). */
function configuredZone(config: Config, host: string): string {
  const h = config.compute.hosts.find((x) => x.name === host);
  return h?.availability_zone || config.compute.default_availability_zone;
}

/** The zone of a compute host: the one its aggregates name, else its configured zone. */
export function hostZone(deps: ZoneDeps, host: string): string {
  return zoneOverrides.get(deps.db)?.get(host) ?? configuredZone(deps.config, host);
}

/** Reads the aggregates' zones into the per-database view that hostZone answers from. */
export async function loadAggregateZones(db: Db): Promise<void> {
  zoneOverrides.set(db, await aggregateZonesByHost(db));
}

/**
 * After an aggregate write: re-reads the aggregates' zones and stores each
 * compute service's zone (os-services, os-availability-zone) accordingly.
 */
export async function refreshHostZones(deps: ZoneDeps): Promise<void> {
  await loadAggregateZones(deps.db);
  const services = await deps.db.selectFrom('compute_services').select(['id', 'host', 'availability_zone']).where('binary', '=', COMPUTE_BINARY).execute();
  for (const s of services) {
    const zone = hostZone(deps, s.host);
    if (zone !== s.availability_zone) await deps.db.updateTable('compute_services').set({ availability_zone: zone }).where('id', '=', s.id).execute();
  }
}
