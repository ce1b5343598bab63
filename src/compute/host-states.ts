import { sql } from 'kysely';
import type { Config } from '../config/index.js';
import type { Db } from '../db/index.js';
import type { HostState } from '../scheduler/types.js';
import { migrationHoldings } from './migrations/holdings.js';
import { supportedInstances } from '../virt/cpu.js';
import { hostZone } from './aggregates/repo.js';

/**
 * The scheduler's view of every configured compute host: capacity from
 * configuration, usage summed from the servers placed on it. The servers'
 * `host` column is the allocation record, so usage is always consistent with
 * what exists, across restarts and failures. `hinted`: the servers named by
 * the request's same_host / different_host hints, whose hosts are filled in
 * `instanceUuids` (hintedServers(spec)).
 */
export async function hostStates(db: Db, config: Config, disabled: ReadonlySet<string>, hinted: readonly string[] = []): Promise<HostState[]> {
  const usage = await db
    .selectFrom('instances')
    .select([
      'host',
      sql<number>`count(*)`.as('n'),
      sql<number>`sum(vcpus)`.as('vcpus'),
      sql<number>`sum(memory_mb)`.as('memory_mb'),
      sql<number>`sum(root_gb + ephemeral_gb)`.as('disk_gb'),
    ])
    .where('deleted', '=', 0)
    .where('host', 'is not', null)
    .groupBy('host')
    .execute();
  const byHost = new Map(usage.map((u) => [u.host, u]));
  // Where the servers a same_host / different_host hint names are (only those: a placement must not read every server).
  const placed =
    hinted.length === 0
      ? []
      : await db.selectFrom('instances').select(['uuid', 'host']).where('deleted', '=', 0).where('host', 'is not', null).where('uuid', 'in', [...new Set(hinted)]).execute();
  const uuidsByHost = new Map<string, Set<string>>();
  for (const p of placed) {
    if (p.host === null) continue;
    let set = uuidsByHost.get(p.host);
    if (!set) uuidsByHost.set(p.host, (set = new Set()));
    set.add(p.uuid);
  }
  // A resize or cold migration under way also holds the other host's share (./migrations/holdings.ts).
  const held = await migrationHoldings(db);
  return config.compute.hosts.map((h) => {
    const u = byHost.get(h.name);
    const m = held.get(h.name);
    return {
      host: h.name,
      node: h.name,
      availabilityZone: hostZone({ db, config }, h.name),
      enabled: !disabled.has(h.name),
      vcpus: h.vcpus,
      memoryMb: h.memory_mb,
      diskGb: h.disk_gb,
      cpuAllocationRatio: h.cpu_allocation_ratio,
      ramAllocationRatio: h.ram_allocation_ratio,
      diskAllocationRatio: h.disk_allocation_ratio,
      usedVcpus: Number(u?.vcpus ?? 0) + (m?.vcpus ?? 0),
      usedMemoryMb: Number(u?.memory_mb ?? 0) + (m?.memoryMb ?? 0),
      usedDiskGb: Number(u?.disk_gb ?? 0) + (m?.diskGb ?? 0),
      instances: Number(u?.n ?? 0),
      instanceUuids: uuidsByHost.get(h.name) ?? new Set<string>(),
      supportedInstances: supportedInstances(h),
    };
  });
}

/** The servers a request's same_host / different_host hints name (what hostStates must locate). */
export function hintedServers(spec: { sameHost?: readonly string[]; differentHost?: readonly string[] }): string[] {
  return [...(spec.sameHost ?? []), ...(spec.differentHost ?? [])];
}
