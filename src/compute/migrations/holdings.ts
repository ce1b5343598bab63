import type { Db } from '../../db/index.js';
import { EVACUATION_HOLDS_DEST, EVACUATION_HOLDS_SOURCE, flavorJson, HOLDS_DEST, HOLDS_SOURCE, LIVE_HOLDS_DEST } from './repo.js';

export interface Held {
  vcpus: number;
  memoryMb: number;
  diskGb: number;
}

/**
 * Capacity a resize or cold migration holds on the host that the server's
 * `host` column does not name (the server's own flavor is counted on its
 * `host` by host-states.ts). Until the finish the server is on the source
 * and the destination holds the new flavor (`migrating`, `post-migrating`);
 * from the finish (VERIFY_RESIZE) until confirm or revert completes the
 * server is on the destination and the source keeps the old flavor
 * (`finished`, `confirming`, `reverting`). Confirmed, reverted and failed
 * migrations hold nothing. A live migration holds the flavor on its
 * destination while it runs (LIVE_HOLDS_DEST); an evacuation on its
 * destination while it rebuilds, then on the source until the old host
 * has cleaned up (EVACUATION_HOLDS_DEST, EVACUATION_HOLDS_SOURCE).
 * Only migrations of live servers count.
 */
export async function migrationHoldings(db: Db): Promise<Map<string, Held>> {
  const rows = await db
    .selectFrom('migrations')
    .innerJoin('instances', 'instances.uuid', 'migrations.instance_uuid')
    .select(['instances.host', 'migrations.status', 'migrations.migration_type', 'migrations.source_compute', 'migrations.dest_compute', 'migrations.old_flavor', 'migrations.new_flavor'])
    .where('instances.deleted', '=', 0)
    .where('migrations.status', 'in', [...new Set([...HOLDS_DEST, ...HOLDS_SOURCE, ...LIVE_HOLDS_DEST, ...EVACUATION_HOLDS_DEST, ...EVACUATION_HOLDS_SOURCE])])
    .execute();
  const out = new Map<string, Held>();
  for (const r of rows) {
    let dest: boolean;
    if (r.migration_type === 'live-migration') {
      if (!LIVE_HOLDS_DEST.includes(r.status)) continue;
      dest = true;
    } else if (r.migration_type === 'evacuation') {
      if (EVACUATION_HOLDS_DEST.includes(r.status)) dest = true;
      else if (EVACUATION_HOLDS_SOURCE.includes(r.status)) dest = false;
      else continue;
    } else if (HOLDS_DEST.includes(r.status)) dest = true;
    else if (HOLDS_SOURCE.includes(r.status)) dest = false;
    else continue;
    const host = dest ? r.dest_compute : r.source_compute;
    if (!host) continue;
    // The server already counts where it is: during a switch-over (its host changed before the
    // migration's status did) the host it moved to is not charged twice. A same-host resize holds both flavors.
    if (r.host === host && r.source_compute !== r.dest_compute) continue;
    const f = flavorJson(dest ? r.new_flavor : r.old_flavor);
    const h = out.get(host) ?? { vcpus: 0, memoryMb: 0, diskGb: 0 };
    h.vcpus += f.vcpus;
    h.memoryMb += f.memory_mb;
    h.diskGb += f.root_gb + f.ephemeral_gb;
    out.set(host, h);
  }
  return out;
}
