import type { Selectable } from 'kysely';
import type { Db } from '../../db/index.js';
import type { GroupSpec } from '../../scheduler/types.js';
import type { ServerGroupRow } from './tables.js';

export type ServerGroup = Selectable<ServerGroupRow>;

export const GROUP_POLICIES = ['affinity', 'anti-affinity', 'soft-affinity', 'soft-anti-affinity'] as const;
export type GroupPolicy = (typeof GROUP_POLICIES)[number];

export function rulesOf(g: Pick<ServerGroup, 'rules'>): { max_server_per_host?: number } {
  return JSON.parse(g.rules) as { max_server_per_host?: number };
}

export async function findGroup(db: Db, uuid: string): Promise<ServerGroup | null> {
  return (await db.selectFrom('server_groups').selectAll().where('uuid', '=', uuid).executeTakeFirst()) ?? null;
}

/**
 * Live (not deleted) members of groups: group uuid -> member uuids, in the
 * order they joined. A deleted server leaves its groups with its deletion
 * (its membership rows no longer count anywhere).
 */
export async function liveMembers(db: Db, groupUuids: string[]): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>(groupUuids.map((g) => [g, []]));
  if (groupUuids.length === 0) return out;
  for (let i = 0; i < groupUuids.length; i += 500) {
    const rows = await db
      .selectFrom('server_group_members as m')
      .innerJoin('instances as i', 'i.uuid', 'm.instance_uuid')
      .select(['m.group_uuid', 'm.instance_uuid'])
      .where('m.group_uuid', 'in', groupUuids.slice(i, i + 500))
      .where('i.deleted', '=', 0)
      .orderBy('m.id')
      .execute();
    for (const r of rows) out.get(r.group_uuid)?.push(r.instance_uuid);
  }
  return out;
}

/** The groups each server belongs to: server uuid -> group uuids. */
export async function groupsOfServers(db: Db, uuids: string[]): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  for (let i = 0; i < uuids.length; i += 500) {
    const rows = await db
      .selectFrom('server_group_members as m')
      .innerJoin('server_groups as g', 'g.uuid', 'm.group_uuid')
      .select(['m.instance_uuid', 'm.group_uuid'])
      .where('m.instance_uuid', 'in', uuids.slice(i, i + 500))
      .orderBy('m.id')
      .execute();
    for (const r of rows) {
      const list = out.get(r.instance_uuid) ?? [];
      list.push(r.group_uuid);
      out.set(r.instance_uuid, list);
    }
  }
  return out;
}

/** Live members of a group created by `userId` (Nova counts server_group_members per user). */
export async function countUserMembers(db: Db, groupUuid: string, userId: string): Promise<number> {
  const row = await db
    .selectFrom('server_group_members as m')
    .innerJoin('instances as i', 'i.uuid', 'm.instance_uuid')
    .select((eb) => eb.fn.countAll<number | string | bigint>().as('n'))
    .where('m.group_uuid', '=', groupUuid)
    .where('i.deleted', '=', 0)
    .where('i.user_id', '=', userId)
    .executeTakeFirst();
  return Number(row?.n ?? 0);
}

export async function addMembers(db: Db, groupUuid: string, instanceUuids: string[], now: string): Promise<void> {
  if (instanceUuids.length === 0) return;
  await db
    .insertInto('server_group_members')
    .values(instanceUuids.map((instance_uuid) => ({ group_uuid: groupUuid, instance_uuid, created_at: now })))
    .execute();
}

/**
 * What the scheduler needs of the group a server belongs to: the policy and
 * rule, the other live members, and the hosts those members are placed on
 * (one entry per placed member). Null when the server is in no group.
 */
export async function schedulingGroupOf(db: Db, instanceUuid: string): Promise<{ group: GroupSpec; groupHosts: string[] } | null> {
  const m = await db
    .selectFrom('server_group_members as m')
    .innerJoin('server_groups as g', 'g.uuid', 'm.group_uuid')
    .select(['g.uuid', 'g.policy', 'g.rules'])
    .where('m.instance_uuid', '=', instanceUuid)
    .orderBy('m.id')
    .executeTakeFirst();
  if (!m) return null;
  const others = await db
    .selectFrom('server_group_members as m')
    .innerJoin('instances as i', 'i.uuid', 'm.instance_uuid')
    .select(['i.uuid', 'i.host'])
    .where('m.group_uuid', '=', m.uuid)
    .where('i.deleted', '=', 0)
    .where('i.uuid', '!=', instanceUuid)
    .execute();
  const policy = (GROUP_POLICIES as readonly string[]).includes(m.policy) ? (m.policy as GroupPolicy) : 'affinity';
  return {
    group: { uuid: m.uuid, policy, maxServerPerHost: rulesOf(m).max_server_per_host ?? 1, members: others.map((o) => o.uuid) },
    groupHosts: others.flatMap((o) => (o.host === null ? [] : [o.host])),
  };
}
