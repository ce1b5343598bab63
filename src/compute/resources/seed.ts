import type { Db } from '../../db/index.js';
import type { Clock } from '../../lib/clock.js';
import { isoMicro } from '../../lib/time.js';
import type { ComputeDeps } from '../deps.js';

/** DevStack's flavors: [id, name, ram MB, disk GB, vcpus]. */
export const DEVSTACK_FLAVORS: [string, string, number, number, number][] = [
  ['1', 'm1.tiny', 512, 1, 1],
  ['2', 'm1.small', 2048, 20, 1],
  ['3', 'm1.medium', 4096, 40, 2],
  ['4', 'm1.large', 8192, 80, 4],
  ['5', 'm1.xlarge', 16384, 160, 8],
  ['42', 'm1.nano', 128, 1, 1],
  ['84', 'm1.micro', 192, 1, 1],
  ['c1', 'cirros256', 256, 1, 1],
  ['d1', 'ds512M', 512, 5, 1],
  ['d2', 'ds1G', 1024, 10, 1],
  ['d3', 'ds2G', 2048, 10, 2],
  ['d4', 'ds4G', 4096, 20, 4],
];

/**
 * Creates DevStack's public flavors once: only when the flavors table is
 * empty, so flavors an operator deleted or changed stay that way. Returns the
 * number created.
 */
export async function seedFlavors(db: Db, clock: Clock): Promise<number> {
  const any = await db.selectFrom('flavors').select('id').limit(1).executeTakeFirst();
  if (any) return 0;
  const now = isoMicro(clock.now());
  await db
    .insertInto('flavors')
    .values(
      DEVSTACK_FLAVORS.map(([flavorid, name, memory_mb, root_gb, vcpus]) => ({
        flavorid,
        name,
        memory_mb,
        root_gb,
        vcpus,
        ephemeral_gb: 0,
        swap: 0,
        rxtx_factor: 1.0,
        is_public: 1,
        disabled: 0,
        description: null,
        created_at: now,
        updated_at: null,
      })),
    )
    .onConflict((oc) => oc.doNothing())
    .execute();
  return DEVSTACK_FLAVORS.length;
}

/** Startup work of the resource APIs (idempotent): seeds the default flavors. */
export async function initResources(deps: Pick<ComputeDeps, 'db' | 'clock' | 'log'>): Promise<void> {
  const created = await seedFlavors(deps.db, deps.clock);
  if (created > 0) deps.log.info({ flavors: created }, 'seeded default flavors');
}
