import { PowerState, VmState } from '../../compute/states.js';
import type { AgentOp } from '../context.js';

/**
 * Compute side of rescue/unrescue: the guest is powered off and booted
 * from the rescue image (the server's own image unless one was given) with
 * its disk attached; unrescue boots its own disk again. A failure sets
 * ERROR, as Nova does (`Instance <uuid> cannot be rescued: Driver Error: ...`).
 */
export const rescueOps: Record<string, AgentOp> = {
  rescue_instance: (ctx, args) => {
    const uuid = String(args.uuid);
    return ctx.run({
      uuid,
      requestId: args.requestId as string | undefined,
      event: 'compute_rescue_instance',
      expected: ['rescuing'],
      onError: 'error',
      work: async (inst) => {
        const { driver } = ctx.deps;
        const image = typeof args.rescueImageRef === 'string' && args.rescueImageRef ? args.rescueImageRef : inst.image_ref;
        const password = typeof args.adminPass === 'string' ? args.adminPass : null;
        try {
          await driver.powerOff(uuid);
          await driver.rescue(uuid, image, password);
        } catch (err) {
          throw new Error(`Instance ${uuid} cannot be rescued: Driver Error: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
        }
        return { vm_state: VmState.RESCUED, power_state: await driver.powerState(uuid), launched_at: ctx.now() };
      },
    });
  },
  unrescue_instance: (ctx, args) =>
    ctx.run({
      uuid: String(args.uuid),
      requestId: args.requestId as string | undefined,
      event: 'compute_unrescue_instance',
      expected: ['unrescuing'],
      onError: 'error',
      work: async (inst) => {
        await ctx.deps.driver.unrescue(inst.uuid);
        const power = await ctx.deps.driver.powerState(inst.uuid);
        return { vm_state: VmState.ACTIVE, power_state: power === PowerState.NOSTATE ? PowerState.RUNNING : power };
      },
    }),
};
