import { PowerState, VmState } from '../../compute/states.js';
import type { AgentOp } from '../context.js';

/**
 * Compute side of restore: the soft-deleted guest is powered on again
 * (a guest already running is left as it is, as powering on is idempotent
 * on real hypervisors). forceDelete and the periodic reclaim use the
 * host's terminate_instance.
 */
export const deletedOps: Record<string, AgentOp> = {
  restore_instance: (ctx, args) =>
    ctx.run({
      uuid: String(args.uuid),
      requestId: args.requestId as string | undefined,
      event: 'compute_restore_instance',
      expected: ['restoring'],
      work: async (inst) => {
        const { driver } = ctx.deps;
        if ((await driver.powerState(inst.uuid)) !== PowerState.RUNNING) await driver.powerOn(inst.uuid);
        return { vm_state: VmState.ACTIVE, power_state: await driver.powerState(inst.uuid) };
      },
    }),
};
