import { eventFinish, eventStart } from '../../compute/actions/record.js';
import { findMigration, setMigration } from '../../compute/migrations/repo.js';
import { casUpdate, findInstance, recordFault } from '../../compute/servers/repo.js';
import { PowerState, VmState } from '../../compute/states.js';
import type { AgentContext, AgentOp } from '../context.js';
import { guestSpecFor, step } from './image-support.js';

/**
 * Compute side of evacuation: the destination rebuilds the server from its
 * image (Nova's rebuild_instance with evacuate: rebuilding →
 * rebuild_spawning); on success the server becomes this host's (Nova's
 * finish_evacuation), ACTIVE, or STOPPED when it was stopped (and always
 * from 2.95), and the migration is `done`. A failure leaves the server in
 * ERROR on its source with a fault and the migration `failed`. The source, once it is back,
 * drops its copy (destroyEvacuatedInstances, Nova's
 * _destroy_evacuated_instances) and the migration becomes `completed`,
 * which releases the source's share of the ledger.
 */
export const evacuateOps: Record<string, AgentOp> = {
  evacuate_instance: async (ctx, args) => {
    const { db, driver, log, host } = ctx.deps;
    const uuid = String(args.uuid);
    const requestId = typeof args.requestId === 'string' ? args.requestId : undefined;
    // The server is still its failed source's until the rebuild here succeeds.
    const inst = await findInstance(db, uuid, { projectId: null });
    const mig = await findMigration(db, String(args.migrationUuid));
    if (!inst || !mig || inst.task_state !== 'rebuilding' || mig.status !== 'pre-migrating' || mig.dest_compute !== host) return;
    const az = typeof args.destAz === 'string' ? { availability_zone: args.destAz } : {};
    const ev = requestId ? await eventStart(db, { instanceUuid: uuid, requestId, event: 'compute_rebuild_instance', host }, ctx.now()) : undefined;
    try {
      if (!(await step(ctx, uuid, 'rebuilding', 'rebuild_spawning', { power_state: PowerState.NOSTATE }))) return;
      const adminPass = typeof args.adminPass === 'string' ? args.adminPass : null;
      await driver.spawn(await guestSpecFor(ctx, inst, { imageRef: inst.image_ref, adminPass }), async (percent) => {
        if (percent < 100) await casUpdate(db, uuid, ['rebuild_spawning'], { progress: percent, updated_at: ctx.now() });
      });
      const stopped = args.targetState === VmState.STOPPED || mig.old_vm_state === VmState.STOPPED;
      if (stopped) await driver.powerOff(uuid, 0);
      const now = ctx.now();
      const done = await casUpdate(db, uuid, ['rebuild_spawning'], {
        host,
        node: mig.dest_node ?? host,
        ...az,
        vm_state: stopped ? VmState.STOPPED : VmState.ACTIVE,
        task_state: null,
        power_state: stopped ? PowerState.SHUTDOWN : PowerState.RUNNING,
        progress: 0,
        launched_at: now,
        updated_at: now,
      });
      if (!done) {
        await driver.destroy(uuid).catch(() => undefined);
        await setMigration(db, mig.uuid, { status: 'failed' }, now);
        await eventFinish(db, ev, now);
        return;
      }
      await setMigration(db, mig.uuid, { status: 'done' }, now, ['pre-migrating']);
      await eventFinish(db, ev, now);
    } catch (err) {
      log.warn({ err, uuid }, 'evacuation failed');
      await driver.destroy(uuid).catch(() => undefined);
      const now = ctx.now();
      const message = err instanceof Error ? err.message : String(err);
      await recordFault(db, uuid, { code: 500, message: message.slice(0, 255), details: err instanceof Error ? (err.stack ?? message) : message, created_at: now });
      await casUpdate(db, uuid, ['rebuilding', 'rebuild_spawning'], { vm_state: VmState.ERROR, task_state: null, power_state: PowerState.NOSTATE, progress: 0, updated_at: now });
      await setMigration(db, mig.uuid, { status: 'failed' }, now);
      await eventFinish(db, ev, now, err);
    }
  },

  destroy_evacuated_instances: (ctx) => destroyEvacuatedInstances(ctx),
};

/**
 * The old host of evacuated servers, back up: removes the guests it still
 * has of servers that now live elsewhere, and completes their evacuations.
 * Returns how many it cleaned up.
 */
export async function destroyEvacuatedInstances(ctx: AgentContext): Promise<number> {
  const { db, driver, log, host } = ctx.deps;
  const rows = await db
    .selectFrom('migrations')
    .selectAll()
    .where('migration_type', '=', 'evacuation')
    .where('source_compute', '=', host)
    .where('status', 'in', ['accepted', 'pre-migrating', 'done'])
    .execute();
  const guests = new Set(await driver.listGuests());
  let n = 0;
  for (const m of rows) {
    const inst = await findInstance(db, m.instance_uuid, { projectId: null });
    // Still here (the conductor has not placed it yet): nothing to clean.
    if (inst && inst.host === host) continue;
    if (guests.has(m.instance_uuid)) {
      log.info({ uuid: m.instance_uuid }, 'deleting the local copy of an evacuated server');
      await driver.destroy(m.instance_uuid).catch((err: unknown) => log.warn({ err, uuid: m.instance_uuid }, 'destroying an evacuated guest failed'));
    }
    if (m.status === 'done' || !inst) {
      await setMigration(db, m.uuid, { status: 'completed' }, ctx.now(), [m.status]);
      n++;
    }
  }
  return n;
}
