import { casUpdate } from '../../compute/servers/repo.js';
import { PowerState, VmState } from '../../compute/states.js';
import type { AgentOp } from '../context.js';
import { guestSpecFor, step } from './image-support.js';

/**
 * Compute side of rebuild (Nova's rebuild_instance with the default
 * implementation): the guest is destroyed and spawned again from the new
 * image, through rebuilding → rebuild_block_device_mapping →
 * rebuild_spawning. A server that was stopped is stopped again afterwards
 * (via powering-off); one in ERROR comes back ACTIVE. A failure sets ERROR.
 */
export const rebuildOps: Record<string, AgentOp> = {
  rebuild_instance: (ctx, args) => {
    const uuid = String(args.uuid);
    const adminPass = typeof args.adminPass === 'string' ? args.adminPass : null;
    const origVmState = typeof args.origVmState === 'string' ? args.origVmState : null;
    return ctx.run({
      uuid,
      requestId: args.requestId as string | undefined,
      event: 'compute_rebuild_instance',
      expected: ['rebuild_spawning', 'powering-off'],
      onError: 'error',
      work: async (inst) => {
        const { driver, db } = ctx.deps;
        const orig = origVmState ?? inst.vm_state;
        if (!(await step(ctx, uuid, 'rebuilding', 'rebuild_block_device_mapping', { power_state: await driver.powerState(uuid) }))) return {};
        await driver.destroy(uuid);
        if (!(await step(ctx, uuid, 'rebuild_block_device_mapping', 'rebuild_spawning', { power_state: PowerState.NOSTATE }))) return {};
        const spec = await guestSpecFor(ctx, inst, { imageRef: inst.image_ref, adminPass });
        await driver.spawn(spec, async (percent) => {
          if (percent < 100) await casUpdate(db, uuid, ['rebuild_spawning'], { progress: percent, updated_at: ctx.now() });
        });
        const now = ctx.now();
        if (orig === VmState.STOPPED) {
          // Nova brings the server back to its original state: ACTIVE for a moment, then stopped.
          const running = { vm_state: VmState.ACTIVE, power_state: PowerState.RUNNING, launched_at: now, progress: 0 };
          if (!(await step(ctx, uuid, 'rebuild_spawning', 'powering-off', running))) return {};
          await driver.powerOff(uuid);
          return { vm_state: VmState.STOPPED, power_state: await driver.powerState(uuid) };
        }
        return { vm_state: VmState.ACTIVE, power_state: await driver.powerState(uuid), launched_at: now, progress: 0 };
      },
    });
  },
};
