import type { Config } from '../../config/index.js';
import { sql } from 'kysely';
import type { Db } from '../../db/index.js';
import { errors } from '../../errors.js';

/**
 * Nova's quota resources (nova/quota.py QUOTAS), sorted by name as Nova
 * lists them. The four network ones are deprecated leftovers that still show
 * (unlimited) below microversion 2.36.
 */
export const QUOTA_RESOURCES = [
  'cores',
  'fixed_ips',
  'floating_ips',
  'injected_file_content_bytes',
  'injected_file_path_bytes',
  'injected_files',
  'instances',
  'key_pairs',
  'metadata_items',
  'ram',
  'security_group_rules',
  'security_groups',
  'server_group_members',
  'server_groups',
] as const;

export type QuotaResource = (typeof QUOTA_RESOURCES)[number];

/** -1 means unlimited. */
export const UNLIMITED = -1;

export function isQuotaResource(name: string): name is QuotaResource {
  return (QUOTA_RESOURCES as readonly string[]).includes(name);
}

/** Configured defaults (Nova's [quota] options); the deprecated network resources are unlimited. */
export function quotaDefaults(config: Config): Record<QuotaResource, number> {
  const q = config.quotas;
  return {
    cores: q.cores,
    fixed_ips: UNLIMITED,
    floating_ips: UNLIMITED,
    injected_file_content_bytes: q.injected_file_content_bytes,
    injected_file_path_bytes: q.injected_file_path_bytes,
    injected_files: q.injected_files,
    instances: q.instances,
    key_pairs: q.key_pairs,
    metadata_items: q.metadata_items,
    ram: q.ram,
    security_group_rules: UNLIMITED,
    security_groups: UNLIMITED,
    server_group_members: q.server_group_members,
    server_groups: q.server_groups,
  };
}

/** The limits stored for a project ('' user) or for one user in it: resource -> hard limit. */
export async function storedLimits(db: Db, projectId: string, userId = ''): Promise<Partial<Record<QuotaResource, number>>> {
  const rows = await db
    .selectFrom('quotas')
    .select(['resource', 'hard_limit'])
    .where('project_id', '=', projectId)
    .where('user_id', '=', userId)
    .execute();
  const out: Partial<Record<QuotaResource, number>> = {};
  for (const r of rows) if (isQuotaResource(r.resource)) out[r.resource] = r.hard_limit;
  return out;
}

/**
 * The effective limits of a project, or of a user in it: configured defaults,
 * overridden by the project's stored limits, overridden (when `userId` is
 * given) by the user's own stored limits. -1 = unlimited.
 */
export async function quotaLimits(
  db: Db,
  config: Config,
  projectId: string,
  userId?: string,
): Promise<Record<QuotaResource, number>> {
  const limits = quotaDefaults(config);
  Object.assign(limits, await storedLimits(db, projectId));
  if (userId !== undefined && userId !== '') Object.assign(limits, await storedLimits(db, projectId, userId));
  return limits;
}

export interface InstanceCounts {
  instances: number;
  cores: number;
  ram: number;
}

export interface QuotaUsage extends InstanceCounts {
  /** Key pairs of the user (0 when no user is given): key pairs belong to users, not projects. */
  key_pairs: number;
  server_groups: number;
  server_group_members: number;
}

/**
 * Counts live instances (not deleted, not soft-deleted) of a project, and of
 * one user in it when `userId` is given, with the cores and RAM they hold
 * (the instances' vcpus / memory_mb columns), aggregated in SQL (plain
 * COUNT/SUM/CASE, the same on SQLite and PostgreSQL).
 */
export async function countInstances(
  db: Db,
  projectId: string,
  userId?: string,
): Promise<{ project: InstanceCounts; user?: InstanceCounts }> {
  const mine = sql`case when user_id = ${userId ?? ''} then 1 else 0 end`;
  const row = await db
    .selectFrom('instances')
    .select([
      sql<number>`count(*)`.as('n'),
      sql<number>`coalesce(sum(vcpus), 0)`.as('cores'),
      sql<number>`coalesce(sum(memory_mb), 0)`.as('ram'),
      sql<number>`coalesce(sum(${mine}), 0)`.as('user_n'),
      sql<number>`coalesce(sum(${mine} * vcpus), 0)`.as('user_cores'),
      sql<number>`coalesce(sum(${mine} * memory_mb), 0)`.as('user_ram'),
    ])
    .where('project_id', '=', projectId)
    .where('deleted', '=', 0)
    .where('vm_state', '!=', 'soft-delete')
    .executeTakeFirst();
  const project: InstanceCounts = { instances: Number(row?.n ?? 0), cores: Number(row?.cores ?? 0), ram: Number(row?.ram ?? 0) };
  if (userId === undefined) return { project };
  const user: InstanceCounts = { instances: Number(row?.user_n ?? 0), cores: Number(row?.user_cores ?? 0), ram: Number(row?.user_ram ?? 0) };
  return { project, user };
}

/** Key pairs owned by a user. */
export async function countKeypairs(db: Db, userId: string): Promise<number> {
  const row = await db
    .selectFrom('keypairs')
    .select((eb) => eb.fn.countAll<number | string | bigint>().as('n'))
    .where('user_id', '=', userId)
    .executeTakeFirst();
  return Number(row?.n ?? 0);
}

/**
 * Usage of the countable resources: instances, cores and ram of the project
 * (or of the user in it, when `userId` is given), the user's key pairs, the
 * server groups of the project (or user). Server group members are counted
 * per group (checkServerGroupMembersQuota), so their usage here is 0 as in Nova.
 */
export async function quotaUsage(db: Db, projectId: string, userId?: string): Promise<QuotaUsage> {
  const counts = await countInstances(db, projectId, userId);
  const inst = counts.user ?? counts.project;
  return {
    instances: inst.instances,
    cores: inst.cores,
    ram: inst.ram,
    key_pairs: userId === undefined ? 0 : await countKeypairs(db, userId),
    server_groups: await countServerGroups(db, projectId, userId),
    server_group_members: 0,
  };
}

export type InstanceResource = keyof InstanceCounts;
const INSTANCE_RESOURCES: InstanceResource[] = ['instances', 'cores', 'ram'];

/** Nova's TooManyInstances text: `Quota exceeded for cores, ram: Requested 2, 1024, but already used 20, 512 of 20, 1024 cores, ram`. */
export function tooManyInstancesMessage(overs: string[], requested: string[], used: string[], allowed: string[]): string {
  const o = overs.join(', ');
  return `Quota exceeded for ${o}: Requested ${requested.join(', ')}, but already used ${used.join(', ')} of ${allowed.join(', ')} ${o}`;
}

interface OverQuota {
  overs: InstanceResource[];
  /** The limits that were exceeded (project's or user's). */
  limits: Record<InstanceResource, number>;
  /** Usage in the scope that was exceeded. */
  usage: InstanceCounts;
}

/**
 * The check of Nova's Quotas.check_deltas for instances/cores/ram: usage plus
 * delta must fit the project's limits and, when the user has limits of their
 * own for any of the three, the user's limits too. Returns null when it fits.
 */
async function findOverQuota(
  db: Db,
  config: Config,
  projectId: string,
  userId: string,
  deltas: InstanceCounts,
): Promise<OverQuota | null> {
  const own = await storedLimits(db, projectId, userId);
  const checkUser = INSTANCE_RESOURCES.some((r) => own[r] !== undefined);
  const projectLimits = await quotaLimits(db, config, projectId);
  const userLimits = checkUser ? await quotaLimits(db, config, projectId, userId) : projectLimits;
  const counts = await countInstances(db, projectId, checkUser ? userId : undefined);
  const userUsage = counts.user ?? counts.project;
  const overs: InstanceResource[] = [];
  let userScope = false;
  for (const r of INSTANCE_RESOURCES) {
    const pLimit = projectLimits[r];
    const uLimit = userLimits[r];
    if (pLimit >= 0 && pLimit < counts.project[r] + deltas[r]) {
      overs.push(r);
    } else if (checkUser && uLimit >= 0 && uLimit < userUsage[r] + deltas[r]) {
      overs.push(r);
      userScope = true;
    }
  }
  if (overs.length === 0) return null;
  overs.sort();
  const limits = userScope ? userLimits : projectLimits;
  return {
    overs,
    limits: { instances: limits.instances, cores: limits.cores, ram: limits.ram },
    usage: userScope ? userUsage : counts.project,
  };
}

/**
 * Checks that adding `deltas` (instances, cores, ram; missing = 0) keeps the
 * project (and the user, if they have limits of their own) within quota.
 * Throws Nova's 403 `Quota exceeded for instances: Requested 1, but already
 * used 10 of 10 instances` otherwise. Used for resize (cores/ram only) and
 * simple creates.
 */
export async function checkServerQuota(
  db: Db,
  config: Config,
  projectId: string,
  userId: string,
  deltas: Partial<InstanceCounts>,
): Promise<void> {
  const d: InstanceCounts = { instances: deltas.instances ?? 0, cores: deltas.cores ?? 0, ram: deltas.ram ?? 0 };
  const over = await findOverQuota(db, config, projectId, userId, d);
  if (!over) return;
  throw errors.quotaExceeded(
    tooManyInstancesMessage(
      over.overs,
      over.overs.map((r) => String(d[r])),
      over.overs.map((r) => String(over.usage[r])),
      over.overs.map((r) => String(over.limits[r])),
    ),
  );
}

/**
 * Nova's check_num_instances_quota for a server create of min..max instances
 * of `flavor`: returns how many instances may be created (max, or fewer but at
 * least min when only that many fit); throws the 403 TooManyInstances fault
 * when not even `minCount` fit.
 */
export async function checkInstanceQuota(
  db: Db,
  config: Config,
  projectId: string,
  userId: string,
  flavor: { vcpus: number; memory_mb: number },
  minCount: number,
  maxCount: number,
): Promise<number> {
  const deltas: InstanceCounts = { instances: maxCount, cores: maxCount * flavor.vcpus, ram: maxCount * flavor.memory_mb };
  const over = await findOverQuota(db, config, projectId, userId, deltas);
  if (!over) return maxCount;
  // Headroom per resource; an unlimited cores/ram follows the instances headroom.
  const headroom: Record<InstanceResource, number> = {
    instances: over.limits.instances - over.usage.instances,
    cores: over.limits.cores - over.usage.cores,
    ram: over.limits.ram - over.usage.ram,
  };
  const instHeadroom = over.limits.instances === UNLIMITED ? Number.POSITIVE_INFINITY : headroom.instances;
  if (over.limits.cores === UNLIMITED) headroom.cores = deltas.cores ? (instHeadroom * deltas.cores) / deltas.instances : instHeadroom;
  if (over.limits.ram === UNLIMITED) headroom.ram = deltas.ram ? (instHeadroom * deltas.ram) / deltas.instances : instHeadroom;
  let allowed = over.limits.instances === UNLIMITED ? Number.POSITIVE_INFINITY : headroom.instances;
  if (flavor.vcpus) allowed = Math.min(allowed, Math.floor(headroom.cores / flavor.vcpus));
  if (flavor.memory_mb) allowed = Math.min(allowed, Math.floor(headroom.ram / flavor.memory_mb));
  if (allowed > 0 && minCount <= allowed && allowed <= maxCount) {
    return checkInstanceQuota(db, config, projectId, userId, flavor, minCount, allowed);
  }
  const requested: Record<InstanceResource, string> = {
    instances: minCount === maxCount ? String(minCount) : `${minCount}-${maxCount}`,
    cores: String(deltas.cores),
    ram: String(deltas.ram),
  };
  throw errors.quotaExceeded(
    tooManyInstancesMessage(
      over.overs,
      over.overs.map((r) => requested[r]),
      over.overs.map((r) => String(over.limits[r] - headroom[r])),
      over.overs.map((r) => String(over.limits[r])),
    ),
  );
}

/**
 * Nova's 403 `Quota exceeded, too many key pairs.` when `ownerId` may not
 * have `delta` more key pairs. As in Nova, the limit is the caller's
 * (`projectId`/`userId`: the lower of the project's and the user's limits) while
 * the count is the owner's (an admin may create key pairs for another user).
 */
export async function checkKeypairQuota(
  db: Db,
  config: Config,
  projectId: string | null,
  userId: string,
  ownerId: string = userId,
  delta = 1,
): Promise<void> {
  let limit = config.quotas.key_pairs;
  if (projectId !== null) {
    const project = (await quotaLimits(db, config, projectId)).key_pairs;
    const user = (await quotaLimits(db, config, projectId, userId)).key_pairs;
    // Nova merges with a plain min(): an unlimited (-1) on either side makes it unlimited.
    limit = Math.min(project, user);
  }
  if (limit < 0) return;
  if ((await countKeypairs(db, ownerId)) + delta > limit) throw errors.quotaExceeded('Quota exceeded, too many key pairs.');
}

/** Nova's 403 `Maximum number of metadata items exceeds <n>` for server (or image) metadata of `count` items. */
export async function checkMetadataItemsQuota(db: Db, config: Config, projectId: string, count: number): Promise<void> {
  const limit = (await quotaLimits(db, config, projectId)).metadata_items;
  if (limit >= 0 && count > limit) throw errors.quotaExceeded(`Maximum number of metadata items exceeds ${limit}`);
}

/** Server groups of a project, or of one user in it. */
export async function countServerGroups(db: Db, projectId: string, userId?: string): Promise<number> {
  let q = db
    .selectFrom('server_groups')
    .select((eb) => eb.fn.countAll<number | string | bigint>().as('n'))
    .where('project_id', '=', projectId);
  if (userId !== undefined) q = q.where('user_id', '=', userId);
  const row = await q.executeTakeFirst();
  return Number(row?.n ?? 0);
}

/**
 * Nova's check for a new server group: the project's groups plus one must
 * fit the project's limit and, when the user has a limit of their own, the
 * user's groups must fit it. 403 `Quota exceeded, too many server groups.`
 */
export async function checkServerGroupQuota(db: Db, config: Config, projectId: string, userId: string): Promise<void> {
  const project = (await quotaLimits(db, config, projectId)).server_groups;
  if (project >= 0 && (await countServerGroups(db, projectId)) + 1 > project) {
    throw errors.quotaExceeded('Quota exceeded, too many server groups.');
  }
  const own = (await storedLimits(db, projectId, userId)).server_groups;
  if (own !== undefined && own >= 0 && (await countServerGroups(db, projectId, userId)) + 1 > own) {
    throw errors.quotaExceeded('Quota exceeded, too many server groups.');
  }
}

/**
 * Nova's server_group_members check at server create: the group's live
 * members created by the user (`members`) plus `delta` must fit the limit
 * (the user's own, else the project's). 403 `Quota exceeded, too many servers in group`.
 */
export async function checkServerGroupMembersQuota(
  db: Db,
  config: Config,
  projectId: string,
  userId: string,
  members: number,
  delta: number,
): Promise<void> {
  const limit = (await quotaLimits(db, config, projectId, userId)).server_group_members;
  if (limit >= 0 && members + delta > limit) throw errors.quotaExceeded('Quota exceeded, too many servers in group');
}
