import { shelvedImageIdOf } from '../../compute/actions/image-support.js';
import { casUpdate, type InstanceUpdate } from '../../compute/servers/repo.js';
import { VmState } from '../../compute/states.js';
import type { AgentContext, AgentOp } from '../context.js';
import { dropImage, guestSpecFor, imagesOf, snapshotInto, step } from './image-support.js';

/** Removes a shelved guest from this host: powered off, destroyed, the server no longer holds the host. */
async function offload(ctx: AgentContext, uuid: string): Promise<InstanceUpdate> {
  const { driver } = ctx.deps;
  await driver.powerOff(uuid);
  const power = await driver.powerState(uuid);
  await driver.destroy(uuid);
  return { vm_state: VmState.SHELVED_OFFLOADED, power_state: power, host: null, node: null };
}

/**
 * Compute side of shelve, shelveOffload and unshelve (Nova's shelve_instance,
 * shelve_offload_instance, unshelve_instance and, for a server still on its
 * host, start_instance).
 */
export const shelveOps: Record<string, AgentOp> = {
  /** Power off, snapshot into `<name>-shelved`, SHELVED; offloaded at once when shelved_offload_time is 0. */
  shelve_instance: (ctx, args) => {
    const uuid = String(args.uuid);
    const imageId = String(args.imageId);
    return ctx.run({
      uuid,
      requestId: args.requestId as string | undefined,
      event: 'compute_shelve_instance',
      expected: ['shelving_image_uploading', 'shelving_offloading'],
      work: async (inst) => {
        const { driver } = ctx.deps;
        try {
          await driver.powerOff(uuid);
          const done = await snapshotInto(ctx, inst, imageId, {
            from: 'shelving',
            pending: 'shelving_image_pending_upload',
            uploading: 'shelving_image_uploading',
          });
          if (!done) return {};
        } catch (err) {
          await dropImage(ctx, imageId);
          throw err;
        }
        const shelved = { vm_state: VmState.SHELVED, power_state: await driver.powerState(uuid) };
        if (args.offload !== true) return shelved;
        if (!(await step(ctx, uuid, 'shelving_image_uploading', 'shelving_offloading', shelved))) return {};
        return offload(ctx, uuid);
      },
    });
  },
  shelve_offload_instance: (ctx, args) =>
    ctx.run({
      uuid: String(args.uuid),
      requestId: args.requestId as string | undefined,
      event: 'compute_shelve_offload_instance',
      expected: ['shelving_offloading'],
      work: (inst) => offload(ctx, inst.uuid),
    }),
  /**
   * A shelved server is powered on where it is (the conductor set
   * powering-on); an offloaded one was placed by the conductor and is
   * spawned here from its shelve snapshot. Either way the snapshot is
   * deleted afterwards. A spawn failure leaves the server offloaded, off
   * the host; a missing snapshot sets ERROR.
   */
  unshelve_instance: async (ctx, args) => {
    const uuid = String(args.uuid);
    const requestId = args.requestId as string | undefined;
    const inst = await ctx.mine(uuid);
    if (!inst) return;
    const { driver, db } = ctx.deps;
    const imageId = await shelvedImageIdOf(db, uuid);
    if (inst.vm_state === VmState.SHELVED) {
      return ctx.run({
        uuid,
        requestId,
        event: 'compute_start_instance',
        expected: ['powering-on'],
        work: async () => {
          await driver.powerOn(uuid);
          if (imageId) await dropImage(ctx, imageId);
          return { vm_state: VmState.ACTIVE, power_state: await driver.powerState(uuid) };
        },
      });
    }
    if (inst.vm_state !== VmState.SHELVED_OFFLOADED) return;
    const image = imageId ? await imagesOf(ctx).getImage(imageId) : null;
    if (!image || image.status !== 'active') {
      return ctx.run({
        uuid,
        requestId,
        event: 'compute_unshelve_instance',
        expected: ['unshelving'],
        onError: 'error',
        work: async () => {
          await casUpdate(db, uuid, 'any', { host: null, node: null, updated_at: ctx.now() });
          throw new Error(`Unshelve attempted but the image ${imageId ?? ''} cannot be found.`);
        },
      });
    }
    return ctx.run({
      uuid,
      requestId,
      event: 'compute_unshelve_instance',
      expected: ['spawning'],
      work: async (row) => {
        if (!(await step(ctx, uuid, 'unshelving', 'spawning'))) return {};
        try {
          await driver.spawn(await guestSpecFor(ctx, row, { imageRef: image.id, adminPass: null }), () => Promise.resolve());
        } catch (err) {
          await driver.destroy(uuid).catch(() => undefined);
          await casUpdate(db, uuid, 'any', { host: null, node: null, updated_at: ctx.now() });
          throw err;
        }
        await dropImage(ctx, image.id);
        return { vm_state: VmState.ACTIVE, power_state: await driver.powerState(uuid), launched_at: ctx.now(), progress: 0 };
      },
    });
  },
};

