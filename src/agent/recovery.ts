import { shelvedImageIdOf } from '../compute/actions/image-support.js';
import { closeInterruptedEvents } from '../compute/interrupted.js';
import { casUpdate, findInstance, recordFault, type Instance, type InstanceUpdate } from '../compute/servers/repo.js';
import { PowerState, TaskState, VmState } from '../compute/states.js';
import type { AgentContext } from './context.js';
import { errorResize, rollbackResize } from './actions/resize.js';
import { recoverLiveMigration } from './actions/live-migrate.js';

/*
 * What a compute host does at start-up with the servers a crash left
 * half-way through an action (Nova's ComputeManager._init_instance, plus the
 * states Nova leaves stuck). Each server is looked at once: its vm_state, its
 * task_state and the power state its guest shows; the first rule of
 * RECOVERY_RULES that matches names the step that resolves it. Every step
 * leaves the server with task_state None (docs/compatibility.md (Restart recovery)).
 */

/** What recovery sees of a server. */
export interface Seen {
  vmState: string;
  taskState: string | null;
  /** The guest's power state as the driver reports it (PowerState). */
  power: number;
}

export type RecoveryStep =
  | 'none'
  | 'finish-delete'
  | 'finish-soft-delete'
  | 'finish-restore'
  | 'error-build'
  | 'error-unshelve'
  | 'error-rebuild'
  | 'drop-snapshot'
  | 'finish-or-revert-shelve'
  | 'finish-offload'
  | 'finish-unshelve'
  | 'retry-reboot'
  | 'set-active'
  | 'set-paused'
  | 'set-suspended'
  | 'finish-unpause'
  | 'finish-stop'
  | 'finish-start'
  | 'revert'
  | 'rollback-resize'
  | 'error-resize'
  | 'rollback-live-migration';

export interface RecoveryRule {
  name: string;
  match: (s: Seen) => boolean;
  step: RecoveryStep;
}

const BUILD_TASKS: readonly string[] = [TaskState.SCHEDULING, TaskState.BLOCK_DEVICE_MAPPING, TaskState.NETWORKING, TaskState.SPAWNING];
const HOST_BUILD_TASKS: readonly string[] = [TaskState.SCHEDULING, TaskState.NETWORKING, TaskState.SPAWNING];
const REBUILD_TASKS: readonly string[] = ['rebuilding', 'rebuild_block_device_mapping', 'rebuild_spawning'];
/** Nova clears these four; image_backup (which Nova leaves stuck) is treated the same. */
const IMAGE_TASKS: readonly string[] = ['image_snapshot_pending', 'image_snapshot', 'image_pending_upload', 'image_uploading', 'image_backup'];
const SHELVING_TASKS: readonly string[] = ['shelving', 'shelving_image_pending_upload', 'shelving_image_uploading'];
const SOFT_REBOOT_TASKS: readonly string[] = ['rebooting', 'reboot_pending', 'reboot_started'];
/** Nova's ALLOW_HARD_REBOOT vm_states. */
const ALLOW_HARD_REBOOT: readonly string[] = [VmState.ACTIVE, VmState.STOPPED, VmState.PAUSED, VmState.SUSPENDED, VmState.ERROR];
/** A reboot under way whose guest is not running is retried (Nova's _retry_reboot). */
const REBOOT_UNDER_WAY: readonly string[] = ['rebooting', 'rebooting_hard', 'reboot_started', 'reboot_started_hard'];
/** With the guest running, these are simply over (Nova's init_instance). */
const OVER_WHEN_RUNNING: readonly string[] = ['reboot_started', 'reboot_started_hard', 'rebooting_hard', 'rebooting', 'pausing', 'unpausing'];
const OFF: readonly number[] = [PowerState.SHUTDOWN, PowerState.CRASHED];

const task = (...tasks: readonly string[]) => (s: Seen) => s.taskState !== null && tasks.includes(s.taskState);

/** First match wins. */
export const RECOVERY_RULES: readonly RecoveryRule[] = [
  { name: 'delete under way', match: task(TaskState.DELETING), step: 'finish-delete' },
  { name: 'deleted but not marked', match: (s) => s.vmState === VmState.DELETED, step: 'finish-delete' },
  { name: 'soft delete under way', match: task(TaskState.SOFT_DELETING), step: 'finish-soft-delete' },
  { name: 'unshelve spawn interrupted', match: (s) => s.vmState === VmState.SHELVED_OFFLOADED && s.taskState === TaskState.SPAWNING, step: 'error-unshelve' },
  { name: 'build interrupted', match: (s) => s.vmState === VmState.BUILDING || task(...BUILD_TASKS)(s), step: 'error-build' },
  { name: 'nothing under way', match: (s) => s.taskState === null, step: 'none' },
  { name: 'restore under way', match: (s) => s.vmState === VmState.SOFT_DELETED && s.taskState === TaskState.RESTORING, step: 'finish-restore' },
  { name: 'soft-deleted or in error', match: (s) => s.vmState === VmState.SOFT_DELETED || s.vmState === VmState.ERROR, step: 'revert' },
  { name: 'rebuild interrupted', match: task(...REBUILD_TASKS), step: 'error-rebuild' },
  { name: 'resize interrupted on the source', match: task('resize_prep', 'resize_migrating', 'resize_migrated', 'resize_finish'), step: 'rollback-resize' },
  { name: 'resize revert interrupted', match: task('resize_reverting'), step: 'error-resize' },
  { name: 'live migration interrupted on the source', match: task('migrating'), step: 'rollback-live-migration' },
  { name: 'snapshot or backup interrupted', match: task(...IMAGE_TASKS), step: 'drop-snapshot' },
  { name: 'shelve interrupted', match: task(...SHELVING_TASKS), step: 'finish-or-revert-shelve' },
  { name: 'offload under way', match: task('shelving_offloading'), step: 'finish-offload' },
  {
    name: 'unshelve under way on this host',
    match: (s) =>
      (s.taskState === 'unshelving' && (s.vmState === VmState.SHELVED || s.vmState === VmState.SHELVED_OFFLOADED)) ||
      (s.taskState === 'powering-on' && s.vmState === VmState.SHELVED),
    step: 'finish-unshelve',
  },
  { name: 'soft reboot acknowledged', match: (s) => s.taskState === 'reboot_pending' && s.vmState === VmState.ACTIVE, step: 'retry-reboot' },
  { name: 'hard reboot acknowledged', match: (s) => s.taskState === 'reboot_pending_hard' && ALLOW_HARD_REBOOT.includes(s.vmState), step: 'retry-reboot' },
  { name: 'reboot with the guest down', match: (s) => task(...REBOOT_UNDER_WAY)(s) && s.power !== PowerState.RUNNING, step: 'retry-reboot' },
  { name: 'guest running', match: (s) => task(...OVER_WHEN_RUNNING)(s) && s.power === PowerState.RUNNING, step: 'set-active' },
  { name: 'unpause with the guest paused', match: (s) => s.taskState === 'unpausing' && s.power === PowerState.PAUSED, step: 'finish-unpause' },
  { name: 'pause done in the guest', match: (s) => s.taskState === 'pausing' && s.power === PowerState.PAUSED, step: 'set-paused' },
  { name: 'suspend done in the guest', match: (s) => s.taskState === 'suspending' && s.power === PowerState.SUSPENDED, step: 'set-suspended' },
  { name: 'resume done in the guest', match: (s) => s.taskState === 'resuming' && s.power === PowerState.RUNNING, step: 'set-active' },
  { name: 'stop under way', match: task('powering-off'), step: 'finish-stop' },
  { name: 'start under way', match: task('powering-on'), step: 'finish-start' },
  { name: 'anything else', match: () => true, step: 'revert' },
];

/** The rule that applies to a server as recovery sees it. */
export function recoveryRule(s: Seen): RecoveryRule {
  const rule = RECOVERY_RULES.find((r) => r.match(s));
  // The last rule matches everything.
  return rule ?? { name: 'anything else', match: () => true, step: 'revert' };
}

/** What a recovery step may ask of the compute service it runs in. */
export interface RecoveryHost {
  ctx: AgentContext;
  /** Runs one of the host's operations (as if cast to it), without a request id. */
  op(method: string, args: Record<string, unknown>): Promise<unknown>;
  terminate(uuid: string): Promise<void>;
  softDelete(uuid: string): Promise<void>;
  /** Puts a server whose build failed into ERROR, off the host, ports released, with a fault. */
  failBuild(uuid: string, err: unknown): Promise<void>;
}

type StepFn = (h: RecoveryHost, inst: Instance, power: number) => Promise<void>;

const now = (h: RecoveryHost) => h.ctx.now();

async function save(h: RecoveryHost, inst: Instance, values: InstanceUpdate): Promise<void> {
  await casUpdate(h.ctx.deps.db, inst.uuid, [inst.task_state], { task_state: null, ...values, updated_at: now(h) });
}

async function fault(h: RecoveryHost, uuid: string, message: string): Promise<void> {
  await recordFault(h.ctx.deps.db, uuid, { code: 500, message, details: '', created_at: now(h) });
}

/** task_state None; the guest's power state recorded; ACTIVE with the guest off becomes STOPPED (as Nova's power-state sync does). */
const revert: StepFn = async (h, inst, power) => {
  const off = OFF.includes(power);
  await save(h, inst, { power_state: power, ...(inst.vm_state === VmState.ACTIVE && off ? { vm_state: VmState.STOPPED } : {}) });
};

/** Deletes the images a snapshot or shelve of this server registered but never finished. */
async function dropUnfinishedImages(h: RecoveryHost, inst: Instance, ids: readonly string[]): Promise<void> {
  const images = h.ctx.deps.imageService;
  for (const id of ids) {
    const img = await images.getImage(id);
    if (!img || img.status === 'active') continue;
    h.ctx.deps.log.info({ uuid: inst.uuid, imageId: id, status: img.status }, 'deleting the image an interrupted snapshot left');
    await images.delete(id);
  }
}

/** Images registered for a snapshot or backup of the server that are not active (queued or saving). */
async function unfinishedSnapshotsOf(h: RecoveryHost, uuid: string): Promise<string[]> {
  const { db } = h.ctx.deps;
  const prop = (name: string, values: string[]) =>
    db.selectFrom('image_properties').select('image_properties.image_id').where('image_properties.name', '=', name).where('image_properties.value', 'in', values);
  const rows = await db
    .selectFrom('images')
    .select('id')
    .where('deleted', '=', 0)
    .where('status', 'in', ['queued', 'saving'])
    .where('id', 'in', prop('instance_uuid', [uuid]))
    .where('id', 'in', prop('image_type', ['snapshot', 'backup']))
    .execute();
  return rows.map((r) => r.id);
}

export const RECOVERY_STEPS: Record<RecoveryStep, StepFn> = {
  none: () => Promise.resolve(),
  'rollback-resize': (h, inst, power) => rollbackResize(h.ctx, inst, power),
  'error-resize': (h, inst, power) => errorResize(h.ctx, inst, power),
  'rollback-live-migration': (h, inst, power) => recoverLiveMigration(h.ctx, inst, power),
  'finish-delete': (h, inst) => h.terminate(inst.uuid),
  'finish-soft-delete': (h, inst) => h.softDelete(inst.uuid),
  'finish-restore': async (h, inst) => {
    await h.op('restore_instance', { uuid: inst.uuid });
  },
  'error-build': async (h, inst) => {
    // The host's build failure path takes the server from the task_states a build walks through on a host.
    if (inst.task_state === null || !HOST_BUILD_TASKS.includes(inst.task_state)) {
      await casUpdate(h.ctx.deps.db, inst.uuid, [inst.task_state], { task_state: TaskState.SPAWNING, updated_at: now(h) });
    }
    await h.failBuild(inst.uuid, new Error('The compute service restarted while the server was being built.'));
  },
  /** Nova: SPAWNING at start-up is ERROR. What the spawn left is removed; the server keeps its host, ports and shelve image. */
  'error-unshelve': async (h, inst) => {
    await h.ctx.deps.driver.destroy(inst.uuid).catch(() => undefined);
    await save(h, inst, { vm_state: VmState.ERROR, power_state: PowerState.NOSTATE });
    await fault(h, inst.uuid, 'The compute service restarted while the server was being unshelved.');
  },
  'error-rebuild': async (h, inst, power) => {
    await save(h, inst, { vm_state: VmState.ERROR, power_state: power });
    // An evacuation that was rebuilding the server (here, or still waiting to leave) failed.
    await h.ctx.deps.db
      .updateTable('migrations')
      .set({ status: 'failed', updated_at: now(h) })
      .where('instance_uuid', '=', inst.uuid)
      .where('migration_type', '=', 'evacuation')
      .where('status', 'in', ['accepted', 'pre-migrating'])
      .execute();
    await fault(h, inst.uuid, 'The compute service restarted while the server was being rebuilt.');
  },
  /** Nova clears the task_state; the image the API registered is deleted unless it became active, as a failed snapshot's is. */
  'drop-snapshot': async (h, inst, power) => {
    await dropUnfinishedImages(h, inst, await unfinishedSnapshotsOf(h, inst.uuid));
    await revert(h, inst, power);
  },
  /** The shelve image complete: the server is shelved (guest off). Otherwise the shelve is undone and its image deleted. */
  'finish-or-revert-shelve': async (h, inst, power) => {
    const { driver, imageService } = h.ctx.deps;
    const imageId = await shelvedImageIdOf(h.ctx.deps.db, inst.uuid);
    const image = imageId ? await imageService.getImage(imageId) : null;
    if (image?.status === 'active') {
      if (!OFF.includes(power) && power !== PowerState.NOSTATE) await driver.powerOff(inst.uuid);
      await save(h, inst, { vm_state: VmState.SHELVED, power_state: await driver.powerState(inst.uuid) });
      return;
    }
    if (imageId) await dropUnfinishedImages(h, inst, [imageId]);
    await revert(h, inst, power);
  },
  'finish-offload': async (h, inst) => {
    await h.op('shelve_offload_instance', { uuid: inst.uuid });
  },
  /** On this host: a shelved server is powered on, an offloaded one the conductor placed here is spawned. */
  'finish-unshelve': async (h, inst) => {
    if (inst.vm_state === VmState.SHELVED && inst.task_state === 'unshelving') {
      if (!(await casUpdate(h.ctx.deps.db, inst.uuid, ['unshelving'], { task_state: 'powering-on', updated_at: now(h) }))) return;
    }
    await h.op('unshelve_instance', { uuid: inst.uuid });
  },
  /** Nova's _retry_reboot: SOFT only when the guest runs and the reboot was soft; a soft reboot that lost its guest becomes HARD. */
  'retry-reboot': async (h, inst, power) => {
    const soft = inst.task_state !== null && SOFT_REBOOT_TASKS.includes(inst.task_state);
    const type = power === PowerState.RUNNING && soft ? 'SOFT' : 'HARD';
    if (soft && type === 'HARD') {
      if (!(await casUpdate(h.ctx.deps.db, inst.uuid, [inst.task_state], { task_state: 'reboot_pending_hard', updated_at: now(h) }))) return;
    }
    await h.op('reboot_instance', { uuid: inst.uuid, type });
  },
  'set-active': (h, inst, power) => save(h, inst, { vm_state: VmState.ACTIVE, power_state: power }),
  'set-paused': (h, inst, power) => save(h, inst, { vm_state: VmState.PAUSED, power_state: power }),
  'set-suspended': (h, inst, power) => save(h, inst, { vm_state: VmState.SUSPENDED, power_state: power }),
  'finish-unpause': async (h, inst) => {
    await h.op('unpause_instance', { uuid: inst.uuid });
  },
  'finish-stop': async (h, inst) => {
    await h.op('stop_instance', { uuid: inst.uuid });
  },
  'finish-start': async (h, inst) => {
    await h.op('start_instance', { uuid: inst.uuid });
  },
  revert,
};

/** vm_states whose guest exists on the host. */
const HAS_GUEST: readonly string[] = [
  VmState.ACTIVE, VmState.PAUSED, VmState.SUSPENDED, VmState.STOPPED, VmState.RESCUED, VmState.RESIZED,
  VmState.SOFT_DELETED, VmState.ERROR, VmState.SHELVED,
];

/**
 * A simulated hypervisor loses its guests with the process: each guest the
 * database knows is re-created as it was recorded (power state; a rescued
 * server back in rescue). Real drivers find their guests and skip this.
 */
async function adoptGuest(h: RecoveryHost, inst: Instance, guests: ReadonlySet<string>): Promise<void> {
  const { driver } = h.ctx.deps;
  if (guests.has(inst.uuid) || !driver.adopt || !HAS_GUEST.includes(inst.vm_state)) return;
  await driver.adopt(inst.uuid, inst.power_state);
  if (inst.vm_state === VmState.RESCUED && inst.task_state !== TaskState.DELETING) {
    await driver.rescue(inst.uuid, inst.image_ref, null);
  }
}

/** Recovers one server of this host; a step that fails leaves it in ERROR with a fault (Nova does so for a failed delete). */
export async function recoverInstance(h: RecoveryHost, inst: Instance, guests: ReadonlySet<string>): Promise<RecoveryRule> {
  const { db, driver, log, host } = h.ctx.deps;
  await closeInterruptedEvents(db, inst.uuid, now(h));
  let rule: RecoveryRule = { name: 'adopt', match: () => true, step: 'none' };
  try {
    await adoptGuest(h, inst, guests);
    const power = await driver.powerState(inst.uuid);
    rule = recoveryRule({ vmState: inst.vm_state, taskState: inst.task_state, power });
    if (rule.step !== 'none') {
      log.info({ uuid: inst.uuid, vm_state: inst.vm_state, task_state: inst.task_state, power_state: power, rule: rule.name, step: rule.step }, 'recovering server after restart');
    }
    await RECOVERY_STEPS[rule.step](h, inst, power);
  } catch (err) {
    log.warn({ err, uuid: inst.uuid, host, step: rule.step }, 'recovery step failed; setting ERROR');
    const message = err instanceof Error ? err.message : String(err);
    if (await casUpdate(db, inst.uuid, 'any', { vm_state: VmState.ERROR, task_state: null, updated_at: now(h) })) {
      await recordFault(db, inst.uuid, { code: 500, message: message.slice(0, 255), details: err instanceof Error ? (err.stack ?? message) : message, created_at: now(h) });
    }
  }
  // Whatever the step did, nothing may stay half-way: an operation that stopped quietly is reverted.
  const after = await findInstance(db, inst.uuid, { projectId: null });
  if (after && after.host === host && (after.task_state !== null || after.vm_state === VmState.BUILDING)) {
    log.warn({ uuid: inst.uuid, vm_state: after.vm_state, task_state: after.task_state, step: rule.step }, 'server still half-way after recovery; clearing it');
    await casUpdate(db, inst.uuid, [after.task_state], {
      task_state: null,
      updated_at: now(h),
      ...(after.vm_state === VmState.BUILDING ? { vm_state: VmState.ERROR } : {}),
    });
  }
  return rule;
}

/**
 * Recovers every live server of this host (Nova's init_host →
 * _init_instance for each). Servers without a host (never placed,
 * offloaded) are the conductor's (Conductor.recover).
 */
export async function recoverHost(h: RecoveryHost): Promise<void> {
  const { db, driver, host } = h.ctx.deps;
  const rows = await db.selectFrom('instances').selectAll().where('host', '=', host).where('deleted', '=', 0).orderBy('id').execute();
  const guests = new Set(await driver.listGuests());
  for (const inst of rows) await recoverInstance(h, inst, guests);
}
