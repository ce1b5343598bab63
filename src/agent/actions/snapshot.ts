import type { Db } from '../../db/index.js';
import type { AgentContext, AgentOp } from '../context.js';
import { dropImage, imagesOf, snapshotInto, step } from './image-support.js';

/**
 * Compute side of createImage and createBackup: the guest's disk is copied
 * into the image the API registered (queued → saving → active), with the
 * server in image_snapshot → image_pending_upload → image_uploading
 * (snapshot) or image_backup → image_pending_upload → image_uploading
 * (backup). On failure the image is deleted and task_state reverted. A
 * backup then rotates out the oldest backups of its type beyond `rotation`.
 */
export const snapshotOps: Record<string, AgentOp> = {
  snapshot_instance: (ctx, args) => {
    const uuid = String(args.uuid);
    const imageId = String(args.imageId);
    return ctx.run({
      uuid,
      requestId: args.requestId as string | undefined,
      event: 'compute_snapshot_instance',
      expected: ['image_uploading'],
      work: async (inst) => {
        try {
          const power = await ctx.deps.driver.powerState(uuid);
          const done =
            (await step(ctx, uuid, 'image_snapshot_pending', 'image_snapshot', { power_state: power })) &&
            (await snapshotInto(ctx, inst, imageId, { from: 'image_snapshot', pending: 'image_pending_upload', uploading: 'image_uploading' }));
          if (!done) await dropUnfinished(ctx, imageId);
          return {};
        } catch (err) {
          await dropImage(ctx, imageId);
          throw err;
        }
      },
    });
  },
  backup_instance: (ctx, args) => {
    const uuid = String(args.uuid);
    const imageId = String(args.imageId);
    const backupType = String(args.backupType);
    const rotation = Number(args.rotation);
    return ctx.run({
      uuid,
      requestId: args.requestId as string | undefined,
      event: 'compute_backup_instance',
      expected: ['image_uploading'],
      work: async (inst) => {
        try {
          await step(ctx, uuid, 'image_backup', 'image_backup', { power_state: await ctx.deps.driver.powerState(uuid) });
          const done = await snapshotInto(ctx, inst, imageId, { from: 'image_backup', pending: 'image_pending_upload', uploading: 'image_uploading' });
          if (!done) {
            await dropUnfinished(ctx, imageId);
            return {};
          }
        } catch (err) {
          await dropImage(ctx, imageId);
          throw err;
        }
        await rotateBackups(ctx, uuid, backupType, rotation);
        return {};
      },
    });
  },
};

/** The server disappeared during the snapshot: an image that never became active is removed. */
async function dropUnfinished(ctx: AgentContext, imageId: string): Promise<void> {
  const img = await imagesOf(ctx).getImage(imageId);
  if (img && img.status !== 'active') await dropImage(ctx, imageId);
}

/** Live backups of a server of one backup type, newest first (Nova filters on the image properties). */
export async function backupsOf(db: Db, instanceUuid: string, backupType: string): Promise<{ id: string; created_at: string }[]> {
  const prop = (name: string, value: string) =>
    db.selectFrom('image_properties').select('image_properties.image_id').where('image_properties.name', '=', name).where('image_properties.value', '=', value);
  return db
    .selectFrom('images')
    .select(['id', 'created_at'])
    .where('deleted', '=', 0)
    .where('status', 'not in', ['killed', 'deleted', 'pending_delete'])
    .where('id', 'in', prop('image_type', 'backup'))
    .where('id', 'in', prop('backup_type', backupType))
    .where('id', 'in', prop('instance_uuid', instanceUuid))
    .orderBy('created_at', 'desc')
    .execute();
}

/** Nova's _rotate_backups: deletes the oldest backups beyond `rotation` (0: all of them). */
async function rotateBackups(ctx: AgentContext, instanceUuid: string, backupType: string, rotation: number): Promise<void> {
  const images = await backupsOf(ctx.deps.db, instanceUuid, backupType);
  if (images.length <= rotation) return;
  for (const img of images.slice(rotation)) {
    ctx.deps.log.debug({ imageId: img.id, uuid: instanceUuid }, 'rotating out backup');
    await dropImage(ctx, img.id);
  }
}
