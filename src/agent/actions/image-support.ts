import { casUpdate, flavorOf, instanceName, type Instance, type InstanceUpdate } from '../../compute/servers/repo.js';
import type { GuestSpec } from '../../virt/driver.js';
import type { AgentContext, HostImages } from '../context.js';

/*
 * Compute-side helpers of the rebuild, rescue, snapshot, shelve and deleted
 * groups: the image service as a host sees it, guest specs for re-spawns,
 * and task_state steps within one operation.
 */

export type { HostImages } from '../context.js';

/** The image service of this host. */
export function imagesOf(ctx: AgentContext): HostImages {
  return ctx.deps.imageService;
}

/**
 * One task_state step inside an operation (Nova's instance.save with
 * expected_task_state): false when the server changed underneath (deleted,
 * or another task took over), in which case the operation stops quietly.
 */
export async function step(ctx: AgentContext, uuid: string, from: string, to: string | null, values: InstanceUpdate = {}): Promise<boolean> {
  return (await casUpdate(ctx.deps.db, uuid, [from], { ...values, task_state: to, updated_at: ctx.now() })) !== undefined;
}

/** A guest spec for (re)spawning `inst` on this host, with its current ports. */
export async function guestSpecFor(ctx: AgentContext, inst: Instance, o: { imageRef: string; adminPass: string | null }): Promise<GuestSpec> {
  const ports = await ctx.deps.db.selectFrom('ports').selectAll().where('instance_uuid', '=', inst.uuid).orderBy('created_at').execute();
  const f = flavorOf(inst);
  return {
    uuid: inst.uuid,
    name: instanceName(inst),
    vcpus: f.vcpus,
    memoryMb: f.memory_mb,
    rootGb: f.root_gb,
    ephemeralGb: f.ephemeral_gb,
    swapMb: f.swap,
    imageRef: o.imageRef,
    userData: inst.user_data,
    keyData: inst.key_data,
    adminPass: o.adminPass,
    nics: ports.map((p) => ({ portId: p.id, mac: p.mac_address, ips: [p.fixed_ip_v4, p.fixed_ip_v6].filter((x): x is string => x !== null) })),
  };
}

/**
 * Copies the guest's disk into a registered image (Nova's driver.snapshot
 * with its update_task_state callback): `pending` while the hypervisor
 * extracts the disk, `uploading` while the bytes go to the image service.
 * Returns false when the server changed underneath.
 */
export async function snapshotInto(
  ctx: AgentContext,
  inst: Instance,
  imageId: string,
  states: { from: string; pending: string; uploading: string },
): Promise<boolean> {
  if (!(await step(ctx, inst.uuid, states.from, states.pending))) return false;
  const bytes = await ctx.deps.driver.snapshot(inst.uuid);
  if (!(await step(ctx, inst.uuid, states.pending, states.uploading))) return false;
  await imagesOf(ctx).uploadImage(imageId, Buffer.from(bytes));
  return true;
}

/** Deletes an image this host registered or uploaded; a missing image is not an error. */
export async function dropImage(ctx: AgentContext, id: string): Promise<void> {
  try {
    await imagesOf(ctx).delete(id);
  } catch (err) {
    ctx.deps.log.warn({ err, imageId: id }, 'could not delete image');
  }
}
