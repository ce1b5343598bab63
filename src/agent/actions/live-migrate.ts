import { eventFinish, eventStart } from '../../compute/actions/record.js';
import { computeTopic } from '../../compute/conductor.js';
import type { PreCheckResult } from '../../compute/migrations/live.js';
import { findMigration, migrationOf, setMigration, type Migration } from '../../compute/migrations/repo.js';
import { casUpdate, findInstance, recordFault, type Instance } from '../../compute/servers/repo.js';
import { PowerState, VmState } from '../../compute/states.js';
import { LiveMigrationAborted } from '../../virt/driver.js';
import type { AgentContext, AgentOp } from '../context.js';
import { guestSpecFor } from './image-support.js';

/**
 * Compute side of live migration (Nova's check_can_live_migrate_destination
 * and _source, live_migration on the source with pre_live_migration and
 * post_live_migration_at_destination on the destination, rollback,
 * force-complete and abort). The conductor (src/compute/migrations/live.ts)
 * has picked and claimed the destination; the source drives the rest:
 * `preparing` (the destination readies an incoming guest), `running` (the
 * driver copies memory, and disks for a block migration, reporting
 * progress on the migration), `post-migrating` (the destination takes
 * over: the server's host changes), `completed`. A failure or an abort rolls
 * back to the source: the server stays where it was, ACTIVE or PAUSED, with
 * task_state cleared and the migration `error` (or `cancelled`).
 */

const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const reqId = (args: Record<string, unknown>): string | undefined => (typeof args.requestId === 'string' ? args.requestId : undefined);

function describe(err: unknown): { message: string; details: string } {
  const message = err instanceof Error ? err.message : String(err);
  return { message, details: err instanceof Error ? (err.stack ?? message) : message };
}

async function event<T>(ctx: AgentContext, uuid: string, requestId: string | undefined, name: string, work: () => Promise<T>): Promise<T> {
  const { db, host } = ctx.deps;
  const ev = requestId ? await eventStart(db, { instanceUuid: uuid, requestId, event: name, host }, ctx.now()) : undefined;
  try {
    const out = await work();
    await eventFinish(db, ev, ctx.now());
    return out;
  } catch (err) {
    await eventFinish(db, ev, ctx.now(), err);
    throw err;
  }
}

/** Nova's InvalidLocalStorage / InvalidSharedStorage, named for the destination's wrapped message. */
class StorageError extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

const CPU_MISMATCH =
  "Unacceptable CPU info: CPU doesn't have compatibility.\n\n0\n\nRefer to http://libvirt.org/html/libvirt-libvirt-host.html#virCPUCompareResult";

/** Puts the server back on the source after a failed or aborted live migration. */
async function rollback(ctx: AgentContext, inst: Instance, mig: Migration, status: 'error' | 'cancelled', err: unknown): Promise<void> {
  const { db, driver } = ctx.deps;
  const now = ctx.now();
  const power = await driver.powerState(inst.uuid);
  if (status === 'error') {
    const { message, details } = describe(err);
    await recordFault(db, inst.uuid, { code: 500, message: message.slice(0, 255), details, created_at: now });
  }
  await casUpdate(db, inst.uuid, ['migrating'], { task_state: null, power_state: power === PowerState.NOSTATE ? inst.power_state : power, updated_at: now });
  await setMigration(db, mig.uuid, { status }, now);
}

/** A call to another host; one that is down (or fails) answers as a failed step. */
const call = (ctx: AgentContext, topic: string, method: string, args: Record<string, unknown>): Promise<unknown> =>
  ctx.deps.bus.call(topic, method, args).catch((err: unknown) => ({ ok: false, message: describe(err).message }));
const cast = (ctx: AgentContext, topic: string, method: string, args: Record<string, unknown>): void => ctx.deps.bus.cast(topic, method, args);

export const liveMigrateOps: Record<string, AgentOp> = {
    /** Destination: compare CPUs, leave a storage marker, ask the source whether it sees it. */
    check_can_live_migrate_destination: async (ctx, args): Promise<PreCheckResult> => {
      const uuid = str(args.uuid);
      const { driver } = ctx.deps;
      try {
        return await event(ctx, uuid, reqId(args), 'compute_check_can_live_migrate_destination', async () => {
          const { cpuCompare, storageMarker } = await driver.checkLiveMigrationDestination(uuid, (args.sourceCpu ?? {}) as Record<string, unknown>);
          try {
            if (cpuCompare <= 0) throw new Error(CPU_MISMATCH);
            const res = (await call(ctx, computeTopic(str(args.source)), 'check_can_live_migrate_source', {
              uuid,
              requestId: args.requestId ?? null,
              marker: storageMarker,
              blockMigration: args.blockMigration ?? null,
            })) as PreCheckResult;
            // Nova's destination reports the source's refusal wrapped, with the remote exception's type.
            if (!res.ok) {
              throw new Error(
                `Migration pre-check error: Error while check_can_live_migrate_source from ${str(args.source)} to host ${ctx.deps.host}: ${res.type ?? 'MigrationPreCheckError'}_Remote ${res.message}`,
              );
            }
            return res;
          } finally {
            await driver.removeStorageMarker(storageMarker);
          }
        });
      } catch (err) {
        return { ok: false, message: describe(err).message };
      }
    },

    /** Source: shared storage decides `auto`; a block migration over shared storage, or none without it, is refused. */
    check_can_live_migrate_source: async (ctx, args): Promise<PreCheckResult> => {
      const uuid = str(args.uuid);
      const source = ctx.deps.host;
      try {
        return await event(ctx, uuid, reqId(args), 'compute_check_can_live_migrate_source', async () => {
          const shared = await ctx.deps.driver.hasStorageMarker(str(args.marker));
          const requested = typeof args.blockMigration === 'boolean' ? args.blockMigration : null;
          const block = requested ?? !shared;
          if (block && shared) throw new StorageError('InvalidLocalStorage', `${source} is not on local storage: Block migration can not be used with shared storage.`);
          if (!block && !shared) {
            throw new StorageError('InvalidSharedStorage', `${source} is not on shared storage: Shared storage live-migration requires either shared storage or boot-from-volume with no local disks.`);
          }
          return { ok: true as const, blockMigration: block };
        });
      } catch (err) {
        return { ok: false, message: describe(err).message, ...(err instanceof StorageError ? { type: err.type } : {}) };
      }
    },

    /** Source: the whole migration, from preparing to completed, or back. */
    live_migration: async (ctx, args) => {
      const { db, driver, log, host } = ctx.deps;
      const uuid = str(args.uuid);
      const requestId = reqId(args);
      const dest = str(args.dest);
      const inst = await ctx.mine(uuid);
      const mig = await findMigration(db, str(args.migrationUuid));
      if (!inst || !mig || inst.task_state !== 'migrating' || mig.status !== 'queued') return;
      const ev = requestId ? await eventStart(db, { instanceUuid: uuid, requestId, event: 'compute_live_migration', host }, ctx.now()) : undefined;
      const fail = async (status: 'error' | 'cancelled', err: unknown): Promise<void> => {
        log.warn({ err, uuid, dest }, status === 'cancelled' ? 'live migration aborted' : 'live migration failed');
        cast(ctx, computeTopic(dest), 'rollback_live_migration_at_destination', { uuid, requestId: requestId ?? null, migrationUuid: mig.uuid });
        await rollback(ctx, inst, mig, status, err);
        await eventFinish(db, ev, ctx.now(), status === 'error' ? err : undefined);
      };
      // An abort (2.65) may have cancelled the migration while it was queued.
      if (!(await setMigration(db, mig.uuid, { status: 'preparing' }, ctx.now(), ['queued']))) {
        await fail('cancelled', new LiveMigrationAborted(uuid));
        return;
      }
      const prepared = (await call(ctx, computeTopic(dest), 'pre_live_migration', { uuid, requestId: requestId ?? null, migrationUuid: mig.uuid })) as { ok: boolean; message?: string };
      if (!prepared.ok) {
        await fail('error', new Error(prepared.message ?? 'pre_live_migration failed'));
        return;
      }
      if (!(await setMigration(db, mig.uuid, { status: 'running' }, ctx.now(), ['preparing']))) {
        await fail('cancelled', new LiveMigrationAborted(uuid));
        return;
      }
      try {
        await driver.liveMigrate(uuid, dest, {
          block: args.blockMigration === true,
          onProgress: async (p) => {
            await setMigration(
              db,
              mig.uuid,
              {
                memory_total: p.memoryTotal,
                memory_processed: p.memoryProcessed,
                memory_remaining: p.memoryRemaining,
                disk_total: p.diskTotal,
                disk_processed: p.diskProcessed,
                disk_remaining: p.diskRemaining,
              },
              ctx.now(),
            );
          },
        });
      } catch (err) {
        await fail(err instanceof LiveMigrationAborted ? 'cancelled' : 'error', err);
        return;
      }
      await setMigration(db, mig.uuid, { status: 'post-migrating' }, ctx.now(), ['running']);
      const power = inst.vm_state === VmState.PAUSED ? PowerState.PAUSED : PowerState.RUNNING;
      const post = (await call(ctx, computeTopic(dest), 'post_live_migration_at_destination', {
        uuid,
        requestId: requestId ?? null,
        migrationUuid: mig.uuid,
        powerState: power,
        destAz: args.destAz ?? null,
      })) as { ok: boolean; message?: string };
      if (!post.ok && (await findInstance(db, uuid, { projectId: null }))?.task_state === 'migrating') {
        // The destination never answered: the guest left this host, so the server is the destination's, in ERROR.
        const now = ctx.now();
        await recordFault(db, uuid, { code: 500, message: (post.message ?? 'post_live_migration_at_destination failed').slice(0, 255), details: '', created_at: now });
        await casUpdate(db, uuid, ['migrating'], { host: dest, node: mig.dest_node ?? dest, vm_state: VmState.ERROR, task_state: null, updated_at: now });
      }
      await setMigration(db, mig.uuid, { status: post.ok ? 'completed' : 'error' }, ctx.now(), ['post-migrating']);
      await eventFinish(db, ev, ctx.now(), post.ok ? undefined : new Error(post.message ?? 'post_live_migration_at_destination failed'));
    },

    /** Destination: an incoming guest, paused until the switch-over. */
    pre_live_migration: async (ctx, args) => {
      const uuid = str(args.uuid);
      const inst = await findInstance(ctx.deps.db, uuid, { projectId: null });
      if (!inst) return { ok: false, message: `Instance ${uuid} could not be found.` };
      try {
        await event(ctx, uuid, reqId(args), 'compute_pre_live_migration', async () => {
          await ctx.deps.driver.preLiveMigration(await guestSpecFor(ctx, inst, { imageRef: inst.image_ref, adminPass: null }));
        });
        return { ok: true };
      } catch (err) {
        return { ok: false, message: describe(err).message };
      }
    },

    /** Destination: the guest runs here now; the server's host, node and zone follow. A failure here leaves the server in ERROR on this host. */
    post_live_migration_at_destination: async (ctx, args) => {
      const { db, driver, host } = ctx.deps;
      const uuid = str(args.uuid);
      const mig = await findMigration(db, str(args.migrationUuid));
      const power = typeof args.powerState === 'number' ? args.powerState : PowerState.RUNNING;
      const az = typeof args.destAz === 'string' ? { availability_zone: args.destAz } : {};
      try {
        await event(ctx, uuid, reqId(args), 'compute_post_live_migration_at_destination', async () => {
          await driver.postLiveMigrationAtDestination(uuid, power);
        });
        await casUpdate(db, uuid, ['migrating'], { host, node: mig?.dest_node ?? host, ...az, task_state: null, power_state: power, progress: 0, updated_at: ctx.now() });
        return { ok: true };
      } catch (err) {
        const { message, details } = describe(err);
        const now = ctx.now();
        await recordFault(db, uuid, { code: 500, message: message.slice(0, 255), details, created_at: now });
        await casUpdate(db, uuid, ['migrating'], { host, node: mig?.dest_node ?? host, ...az, vm_state: VmState.ERROR, task_state: null, power_state: await driver.powerState(uuid), updated_at: now });
        return { ok: false, message };
      }
    },

    /** Destination: drop the incoming guest of a migration that did not complete. */
    rollback_live_migration_at_destination: async (ctx, args) => {
      const uuid = str(args.uuid);
      const inst = await findInstance(ctx.deps.db, uuid, { projectId: null });
      // The guest is ours to drop only while the server still lives elsewhere.
      if (inst?.host === ctx.deps.host) return;
      await event(ctx, uuid, reqId(args), 'compute_rollback_live_migration_at_destination', () => ctx.deps.driver.destroy(uuid)).catch((err: unknown) =>
        ctx.deps.log.warn({ err, uuid }, 'dropping the incoming guest failed'),
      );
    },

    /** Source: make a running migration converge now. */
    live_migration_force_complete: async (ctx, args) => {
      const uuid = str(args.uuid);
      await event(ctx, uuid, reqId(args), 'compute_live_migration_force_complete', () => ctx.deps.driver.liveMigrationForceComplete(uuid)).catch((err: unknown) =>
        ctx.deps.log.warn({ err, uuid }, 'force-complete failed'),
      );
    },

    /** Source: cancel the migration (a queued or preparing one is cancelled before it runs; a running one through the driver). */
    live_migration_abort: async (ctx, args) => {
      const { db } = ctx.deps;
      const uuid = str(args.uuid);
      const migUuid = str(args.migrationUuid);
      await event(ctx, uuid, reqId(args), 'compute_live_migration_abort', async () => {
        if (await setMigration(db, migUuid, { status: 'cancelled' }, ctx.now(), ['queued', 'preparing'])) return;
        const mig = await findMigration(db, migUuid);
        if (mig?.status !== 'running') throw new Error(`Migration ${mig?.id ?? migUuid} state of instance ${uuid} is ${mig?.status ?? 'unknown'}. Cannot abort live migration while the migration is in this state.`);
        await ctx.deps.driver.liveMigrationAbort(uuid);
      }).catch((err: unknown) => ctx.deps.log.warn({ err, uuid }, 'abort failed'));
    },
};

/**
 * Restart recovery of a server this host was live-migrating away (Nova's
 * _init_instance for MIGRATING): the migration did not finish, so the
 * server stays here as it was, the migration goes to `error` and the
 * destination drops its incoming guest.
 */
export async function recoverLiveMigration(
  ctx: AgentContext,
  inst: Instance,
  power: number,
): Promise<void> {
  const { db } = ctx.deps;
  const mig = await migrationOf(db, inst.uuid, ['accepted', 'queued', 'preparing', 'running', 'post-migrating'], ['live-migration']);
  if (mig?.status === 'post-migrating' && mig.dest_compute) {
    // The switch-over had happened: the destination finishes it.
    cast(ctx, computeTopic(mig.dest_compute), 'post_live_migration_at_destination', {
      uuid: inst.uuid,
      requestId: null,
      migrationUuid: mig.uuid,
      powerState: inst.vm_state === VmState.PAUSED ? PowerState.PAUSED : PowerState.RUNNING,
    });
    await setMigration(db, mig.uuid, { status: 'completed' }, ctx.now());
    return;
  }
  if (mig?.dest_compute) cast(ctx, computeTopic(mig.dest_compute), 'rollback_live_migration_at_destination', { uuid: inst.uuid, requestId: null, migrationUuid: mig.uuid });
  await casUpdate(db, inst.uuid, ['migrating'], { task_state: null, power_state: power, updated_at: ctx.now() });
  if (mig) await setMigration(db, mig.uuid, { status: 'error' }, ctx.now());
}
