import { PowerState, VmState } from '../../compute/states.js';
import type { AgentOp } from '../context.js';

/** Compute side of pause/unpause: freeze or thaw the guest in memory. */
export const pauseOps: Record<string, AgentOp> = {
  pause_instance: (ctx, args) =>
    ctx.run({
      uuid: String(args.uuid),
      requestId: args.requestId as string | undefined,
      event: 'compute_pause_instance',
      expected: ['pausing'],
      work: async (inst) => {
        await ctx.deps.driver.pause(inst.uuid);
        return { vm_state: VmState.PAUSED, power_state: PowerState.PAUSED };
      },
    }),
  unpause_instance: (ctx, args) =>
    ctx.run({
      uuid: String(args.uuid),
      requestId: args.requestId as string | undefined,
      event: 'compute_unpause_instance',
      expected: ['unpausing'],
      work: async (inst) => {
        await ctx.deps.driver.unpause(inst.uuid);
        return { vm_state: VmState.ACTIVE, power_state: PowerState.RUNNING };
      },
    }),
};
