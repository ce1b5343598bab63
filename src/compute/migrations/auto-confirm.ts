import { isoMicro } from '../../lib/time.js';
import { computeTopic } from '../conductor.js';
import type { ComputeDeps } from '../deps.js';
import { VmState } from '../states.js';
import { setMigration } from './repo.js';

/**
 * Nova's _poll_unconfirmed_resizes: a migration `finished` (VERIFY_RESIZE)
 * for longer than `compute.resize_confirm_window` seconds is confirmed as
 * if the user had asked, when its server is still RESIZED with no task.
 * Returns how many were sent for confirmation.
 */
export async function confirmOverdueResizes(deps: ComputeDeps): Promise<number> {
  const { db, config, clock, bus, log } = deps;
  const window = config.compute.resize_confirm_window;
  if (window <= 0) return 0;
  const cutoff = isoMicro(clock.now() - window * 1000);
  const rows = await db
    .selectFrom('migrations')
    .innerJoin('instances', 'instances.uuid', 'migrations.instance_uuid')
    .select(['migrations.uuid as migration_uuid', 'migrations.source_compute', 'migrations.updated_at', 'instances.uuid', 'instances.vm_state', 'instances.task_state'])
    .where('instances.deleted', '=', 0)
    .where('migrations.status', '=', 'finished')
    .where('migrations.migration_type', 'in', ['resize', 'migration'])
    .execute();
  let n = 0;
  for (const r of rows) {
    if (r.updated_at !== null && r.updated_at > cutoff) continue;
    if (r.vm_state !== VmState.RESIZED || r.task_state !== null || !r.source_compute) continue;
    if (!(await setMigration(db, r.migration_uuid, { status: 'confirming' }, isoMicro(clock.now()), ['finished']))) continue;
    log.info({ uuid: r.uuid, migration: r.migration_uuid }, 'automatically confirming a resize');
    bus.cast(computeTopic(r.source_compute), 'confirm_resize', { uuid: r.uuid, requestId: null, migrationUuid: r.migration_uuid });
    n++;
  }
  return n;
}
