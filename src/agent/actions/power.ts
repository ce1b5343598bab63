import { eventFinish, eventStart } from '../../compute/actions/record.js';
import { casUpdate, recordFault, touchInstance } from '../../compute/servers/repo.js';
import { PowerState, VmState } from '../../compute/states.js';
import type { AgentContext, AgentOp } from '../context.js';

/** Nova's default shutdown_timeout: a graceful shutdown gets this long before power is cut. */
const SHUTDOWN_TIMEOUT_S = 60;

const OFF_STATES: readonly number[] = [PowerState.NOSTATE, PowerState.SHUTDOWN, PowerState.CRASHED];

/** The task_states a reboot walks through on the host: requested, acknowledged, under way. */
const REBOOT_STEPS = {
  SOFT: ['rebooting', 'reboot_pending', 'reboot_started'],
  HARD: ['rebooting_hard', 'reboot_pending_hard', 'reboot_started_hard'],
} as const;

const requestIdOf = (args: Record<string, unknown>): string | undefined =>
  typeof args.requestId === 'string' ? args.requestId : undefined;

function faultOf(err: unknown, now: string) {
  const message = err instanceof Error ? err.message : String(err);
  return { code: 500, message: message.slice(0, 255), details: err instanceof Error ? (err.stack ?? message) : message, created_at: now };
}

/**
 * A reboot as Nova's manager does it: acknowledge (…_pending, with the power
 * state read from the hypervisor), start (…_started), then reboot. If the
 * reboot fails but the guest still runs, the fault is recorded and the server
 * stays ACTIVE; otherwise it goes to ERROR.
 */
async function reboot(ctx: AgentContext, args: Record<string, unknown>): Promise<void> {
  const type = args.type === 'SOFT' ? 'SOFT' : 'HARD';
  const [, pending, started] = REBOOT_STEPS[type];
  const uuid = String(args.uuid);
  const { db, driver, log } = ctx.deps;
  await ctx.run({
    uuid,
    requestId: requestIdOf(args),
    event: 'compute_reboot_instance',
    expected: [started],
    onError: 'error',
    work: async () => {
      const power = await driver.powerState(uuid);
      // Another reboot took over (e.g. HARD over SOFT): leave the server to it.
      if (!(await casUpdate(db, uuid, REBOOT_STEPS[type], { task_state: pending, power_state: power, updated_at: ctx.now() }))) return {};
      if (!(await casUpdate(db, uuid, [pending], { task_state: started, updated_at: ctx.now() }))) return {};
      try {
        await driver.reboot(uuid, type);
      } catch (err) {
        if ((await driver.powerState(uuid)) !== PowerState.RUNNING) throw err;
        log.warn({ err, uuid }, 'reboot failed but the guest is running');
        await recordFault(db, uuid, faultOf(err, ctx.now()));
      }
      return { vm_state: VmState.ACTIVE, power_state: await driver.powerState(uuid) };
    },
  });
}

/** Compute side of the power actions. */
export const powerOps: Record<string, AgentOp> = {
  start_instance: (ctx, args) =>
    ctx.run({
      uuid: String(args.uuid),
      requestId: requestIdOf(args),
      event: 'compute_start_instance',
      expected: ['powering-on'],
      work: async (inst) => {
        await ctx.deps.driver.powerOn(inst.uuid);
        return { vm_state: VmState.ACTIVE, power_state: await ctx.deps.driver.powerState(inst.uuid) };
      },
    }),
  stop_instance: async (ctx, args) => {
    const uuid = String(args.uuid);
    // A guest already off may have raced with something that cleared the task_state.
    const alreadyOff = OFF_STATES.includes(await ctx.deps.driver.powerState(uuid));
    await ctx.run({
      uuid,
      requestId: requestIdOf(args),
      event: 'compute_stop_instance',
      expected: alreadyOff ? ['powering-off', null] : ['powering-off'],
      work: async (inst) => {
        await ctx.deps.driver.powerOff(inst.uuid, SHUTDOWN_TIMEOUT_S);
        return { vm_state: VmState.STOPPED, power_state: await ctx.deps.driver.powerState(inst.uuid), progress: 0 };
      },
    });
  },
  suspend_instance: (ctx, args) =>
    ctx.run({
      uuid: String(args.uuid),
      requestId: requestIdOf(args),
      event: 'compute_suspend_instance',
      expected: ['suspending'],
      work: async (inst) => {
        await ctx.deps.driver.suspend(inst.uuid);
        return { vm_state: VmState.SUSPENDED, power_state: await ctx.deps.driver.powerState(inst.uuid) };
      },
    }),
  resume_instance: (ctx, args) =>
    ctx.run({
      uuid: String(args.uuid),
      requestId: requestIdOf(args),
      event: 'compute_resume_instance',
      expected: ['resuming'],
      work: async (inst) => {
        await ctx.deps.driver.resume(inst.uuid);
        return { vm_state: VmState.ACTIVE, power_state: await ctx.deps.driver.powerState(inst.uuid) };
      },
    }),
  reboot_instance: reboot,
  /**
   * Sends the guest an NMI. No task_state and no state change (what the
   * guest does with it is its own configuration); a failure is a fault and a
   * failed event, nothing else.
   */
  trigger_crash_dump: async (ctx, args) => {
    const uuid = String(args.uuid);
    const requestId = requestIdOf(args);
    const { db, driver, host, log } = ctx.deps;
    const inst = await ctx.mine(uuid);
    if (!inst) return;
    const ev = requestId ? await eventStart(db, { instanceUuid: uuid, requestId, event: 'compute_trigger_crash_dump', host }, ctx.now()) : undefined;
    try {
      await driver.triggerCrashDump(uuid);
      await eventFinish(db, ev, ctx.now());
    } catch (err) {
      log.warn({ err, uuid, host }, 'trigger_crash_dump failed');
      await recordFault(db, uuid, faultOf(err, ctx.now()));
      await touchInstance(db, uuid);
      await eventFinish(db, ev, ctx.now(), err);
    }
  },
};
