import { eventFinish, eventStart } from '../../compute/actions/record.js';
import { findMigration, flavorColumns, migrationOf, setMigration, type Migration } from '../../compute/migrations/repo.js';
import { casUpdate, findInstance, recordFault, type Instance, type InstanceUpdate } from '../../compute/servers/repo.js';
import { PowerState, VmState } from '../../compute/states.js';
import type { AgentContext, AgentOp } from '../context.js';
import { guestSpecFor } from './image-support.js';

/**
 * Compute side of resize and cold migration (Nova's resize_instance on
 * the source, finish_resize on the destination, confirm_resize on the
 * source, revert_resize on the destination then finish_revert_resize on
 * the source), each called in turn by the conductor
 * (src/compute/migrations/schedule.ts). As with libvirt, the source powers
 * the guest off and copies its disks (migrateDiskAndPowerOff) but keeps it,
 * shut off, until the move is confirmed (destroyed then) or reverted (the
 * destination's copy is destroyed and the source's comes back,
 * finishRevertMigration); the destination spawns it with the new flavor.
 * The server's `host` and flavor change when the destination finishes;
 * capacity the other host holds meanwhile is counted from the migration
 * (src/compute/migrations/holdings.ts).
 */

interface Step {
  ctx: AgentContext;
  args: Record<string, unknown>;
  event: string;
  /** task_state the server must be in when the step starts. */
  from: string;
  /** task_state taken for the step (or null to keep `from`). */
  during: string | null;
  work: (inst: Instance, mig: Migration) => Promise<void>;
  /** What the server becomes when the work fails. */
  onError: (inst: Instance, mig: Migration) => InstanceUpdate;
}

/** One host's step: the instance-action event around the work; on failure a fault, the server per onError, the migration `error`. */
async function step(s: Step): Promise<void> {
  const { ctx, args } = s;
  const { db, log, host } = ctx.deps;
  const uuid = String(args.uuid);
  const requestId = typeof args.requestId === 'string' ? args.requestId : undefined;
  const inst = await findInstance(db, uuid, { projectId: null });
  const mig = await findMigration(db, String(args.migrationUuid));
  if (!inst || !mig || inst.task_state !== s.from) return;
  if (s.during && !(await casUpdate(db, uuid, [s.from], { task_state: s.during, updated_at: ctx.now() }))) return;
  const ev = requestId ? await eventStart(db, { instanceUuid: uuid, requestId, event: s.event, host }, ctx.now()) : undefined;
  try {
    await s.work(inst, mig);
    await eventFinish(db, ev, ctx.now());
  } catch (err) {
    log.warn({ err, uuid, event: s.event, host }, 'resize step failed');
    const now = ctx.now();
    await recordFault(db, uuid, {
      code: 500,
      message: (err instanceof Error ? err.message : String(err)).slice(0, 255),
      details: err instanceof Error ? (err.stack ?? err.message) : String(err),
      created_at: now,
    });
    await casUpdate(db, uuid, 'any', { task_state: null, updated_at: now, ...s.onError(inst, mig) });
    await setMigration(db, mig.uuid, { status: 'error' }, now);
    await eventFinish(db, ev, now, err);
  }
}

/** The zone of the host the server lands on, when the conductor sent it. */
const zone = (args: Record<string, unknown>): { availability_zone?: string } => (typeof args.availabilityZone === 'string' ? { availability_zone: args.availabilityZone } : {});

const wasStopped = (mig: Migration): boolean => mig.old_vm_state === VmState.STOPPED;

/** Spawns the guest here with `flavor`, left powered off when the server was stopped. */
async function spawnHere(ctx: AgentContext, inst: Instance, flavor: string, mig: Migration): Promise<number> {
  const spec = await guestSpecFor(ctx, { ...inst, flavor }, { imageRef: inst.image_ref, adminPass: null });
  await ctx.deps.driver.spawn(spec, () => Promise.resolve());
  if (wasStopped(mig)) {
    await ctx.deps.driver.powerOff(inst.uuid, 0);
    return PowerState.SHUTDOWN;
  }
  return PowerState.RUNNING;
}

export const resizeOps: Record<string, AgentOp> = {
  /** Source: power off and send the guest away, then hand over to the destination. */
  resize_instance: (ctx, args) =>
    step({
      ctx,
      args,
      event: 'compute_resize_instance',
      from: 'resize_prep',
      during: 'resize_migrating',
      onError: () => ({ vm_state: VmState.ERROR }),
      work: async (inst, mig) => {
        const { db, driver } = ctx.deps;
        if (inst.host !== ctx.deps.host) throw new Error(`Instance ${inst.uuid} is not on host ${ctx.deps.host}.`);
        await driver.migrateDiskAndPowerOff(inst.uuid);
        const moved = await casUpdate(db, inst.uuid, ['resize_migrating'], { task_state: 'resize_migrated', power_state: PowerState.SHUTDOWN, updated_at: ctx.now() });
        if (!moved) return;
        await setMigration(db, mig.uuid, { status: 'post-migrating' }, ctx.now());
      },
    }),
  /** Destination: spawn the guest with the new flavor; the server is here, RESIZED (VERIFY_RESIZE). */
  finish_resize: (ctx, args) =>
    step({
      ctx,
      args,
      event: 'compute_finish_resize',
      from: 'resize_migrated',
      during: 'resize_finish',
      // The source already handed the server over: it is this host's now, in ERROR, with its old flavor (as Nova leaves it).
      onError: (_inst, mig) => ({ vm_state: VmState.ERROR, host: ctx.deps.host, node: mig.dest_node ?? ctx.deps.host }),
      work: async (inst, mig) => {
        const { db, host } = ctx.deps;
        const power = await spawnHere(ctx, inst, mig.new_flavor, mig);
        const f = JSON.parse(mig.new_flavor) as Parameters<typeof flavorColumns>[0];
        const done = await casUpdate(db, inst.uuid, ['resize_finish'], {
          ...flavorColumns(f),
          ...zone(args),
          host,
          node: mig.dest_node ?? host,
          vm_state: VmState.RESIZED,
          task_state: null,
          power_state: power,
          progress: 0,
          updated_at: ctx.now(),
        });
        if (done) await setMigration(db, mig.uuid, { status: 'finished' }, ctx.now(), ['post-migrating']);
        else await ctx.deps.driver.destroy(inst.uuid).catch(() => undefined);
      },
    }),
  /** Source: remove the guest kept since the resize; the server stays where it is, ACTIVE or STOPPED. A failure is ERROR. */
  confirm_resize: async (ctx, args) => {
    const { db, driver, log, host } = ctx.deps;
    const uuid = String(args.uuid);
    const requestId = typeof args.requestId === 'string' ? args.requestId : undefined;
    const mig = await findMigration(db, String(args.migrationUuid));
    const inst = await findInstance(db, uuid, { projectId: null });
    if (!mig || mig.status !== 'confirming') return;
    const ev = requestId ? await eventStart(db, { instanceUuid: uuid, requestId, event: 'compute_confirm_resize', host }, ctx.now()) : undefined;
    try {
      // A same-host resize has one guest, the resized one.
      if (mig.source_compute !== mig.dest_compute) await driver.destroy(uuid);
    } catch (err) {
      log.warn({ err, uuid }, 'confirming the resize failed');
      const now = ctx.now();
      const message = err instanceof Error ? err.message : String(err);
      await recordFault(db, uuid, { code: 500, message: message.slice(0, 255), details: err instanceof Error ? (err.stack ?? message) : message, created_at: now });
      await casUpdate(db, uuid, 'any', { vm_state: VmState.ERROR, task_state: null, updated_at: now });
      await setMigration(db, mig.uuid, { status: 'error' }, now, ['confirming']);
      await eventFinish(db, ev, now, err);
      return;
    }
    if (inst && inst.vm_state === VmState.RESIZED) {
      await casUpdate(db, uuid, [null], { vm_state: wasStopped(mig) ? VmState.STOPPED : VmState.ACTIVE, updated_at: ctx.now() });
    }
    await setMigration(db, mig.uuid, { status: 'confirmed' }, ctx.now(), ['confirming']);
    await eventFinish(db, ev, ctx.now());
  },
  /** Destination: destroy the resized guest, then hand back to the source. */
  revert_resize: (ctx, args) =>
    step({
      ctx,
      args,
      event: 'compute_revert_resize',
      from: 'resize_reverting',
      during: null,
      onError: () => ({ vm_state: VmState.ERROR }),
      work: async (inst) => {
        await ctx.deps.driver.destroy(inst.uuid);
      },
    }),
  /** Source: the kept guest comes back with the old flavor, as ACTIVE or SHUTOFF as it was. */
  finish_revert_resize: (ctx, args) =>
    step({
      ctx,
      args,
      event: 'compute_finish_revert_resize',
      from: 'resize_reverting',
      during: null,
      // Nova puts the old flavor and the source host back before the driver call: a failure leaves the server here, in ERROR.
      onError: (_inst, mig) => ({
        ...flavorColumns(JSON.parse(mig.old_flavor) as Parameters<typeof flavorColumns>[0]),
        vm_state: VmState.ERROR,
        host: ctx.deps.host,
        node: mig.source_node ?? ctx.deps.host,
      }),
      work: async (inst, mig) => {
        const { db, host, driver } = ctx.deps;
        const spec = await guestSpecFor(ctx, { ...inst, flavor: mig.old_flavor }, { imageRef: inst.image_ref, adminPass: null });
        await driver.finishRevertMigration(spec, !wasStopped(mig));
        const power = wasStopped(mig) ? PowerState.SHUTDOWN : PowerState.RUNNING;
        const f = JSON.parse(mig.old_flavor) as Parameters<typeof flavorColumns>[0];
        const done = await casUpdate(db, inst.uuid, ['resize_reverting'], {
          ...flavorColumns(f),
          ...zone(args),
          host,
          node: mig.source_node ?? host,
          vm_state: wasStopped(mig) ? VmState.STOPPED : VmState.ACTIVE,
          task_state: null,
          power_state: power,
          updated_at: ctx.now(),
        });
        if (done) await setMigration(db, mig.uuid, { status: 'reverted' }, ctx.now(), ['reverting']);
      },
    }),
};

/**
 * Restart recovery (src/agent/recovery.ts) of a resize or cold migration
 * that had not reached the destination's finish: the server is still on
 * this (source) host with its old flavor, so it is rolled back here, as
 * Nova's _init_instance does for RESIZE_MIGRATING (and clears RESIZE_PREP):
 * the guest powered as before (on unless the server was stopped), task_state
 * None, the migration `error`.
 */
export async function rollbackResize(ctx: AgentContext, inst: Instance, power: number): Promise<void> {
  const { db, driver } = ctx.deps;
  const mig = await migrationOf(db, inst.uuid, ['pre-migrating', 'migrating', 'post-migrating']);
  const stopped = mig ? wasStopped(mig) : inst.vm_state === VmState.STOPPED;
  let now = power;
  if (inst.task_state !== 'resize_prep') {
    if (!stopped && now !== PowerState.RUNNING) {
      await driver.powerOn(inst.uuid);
      now = PowerState.RUNNING;
    } else if (stopped && now === PowerState.RUNNING) {
      await driver.powerOff(inst.uuid, 0);
      now = PowerState.SHUTDOWN;
    }
  }
  await casUpdate(db, inst.uuid, [inst.task_state], {
    task_state: null,
    vm_state: stopped ? VmState.STOPPED : VmState.ACTIVE,
    power_state: now,
    updated_at: ctx.now(),
  });
  if (mig) await setMigration(db, mig.uuid, { status: 'error' }, ctx.now());
}

/** Restart recovery of an interrupted revert (on the destination): ERROR with a fault, the migration `error`. */
export async function errorResize(ctx: AgentContext, inst: Instance, power: number): Promise<void> {
  const { db } = ctx.deps;
  const mig = await migrationOf(db, inst.uuid, ['reverting']);
  await casUpdate(db, inst.uuid, [inst.task_state], { task_state: null, vm_state: VmState.ERROR, power_state: power, updated_at: ctx.now() });
  await recordFault(db, inst.uuid, { code: 500, message: 'The compute service restarted while the resize was being reverted.', details: '', created_at: ctx.now() });
  if (mig) await setMigration(db, mig.uuid, { status: 'error' }, ctx.now());
}
