import { createHash } from 'node:crypto';
import type { ComputeRequest } from '../../api/route.js';
import type { NewImage } from '../../image/types.js';
import { isoMicro } from '../../lib/time.js';
import type { ComputeDeps } from '../deps.js';
import { flavorOf, type Instance } from '../servers/repo.js';
import { VmState } from '../states.js';

/*
 * Shared by the rebuild, rescue, snapshot (createImage/createBackup), shelve
 * and deleted (restore/forceDelete) action groups: Nova's API checks in
 * Nova's order, taking the task_state together with other values, and the
 * images compute registers in the image service.
 */

// ---- images -----------------------------------------------------------------

/** Image properties a snapshot never inherits (Nova's NON_INHERITABLE_IMAGE_PROPERTIES and the os_glance namespace). */
const NON_INHERITABLE = new Set([
  'cinder_encryption_key_id',
  'cinder_encryption_key_deletion_policy',
  'img_signature',
  'img_signature_hash_method',
  'img_signature_key_type',
  'img_signature_certificate_uuid',
]);

async function nameOf(deps: ComputeDeps, table: 'projects' | 'users', id: string): Promise<string | undefined> {
  const row = await deps.db.selectFrom(table).select('name').where('id', '=', id).executeTakeFirst();
  return row?.name;
}

/**
 * Registers the image a snapshot, backup or shelve uploads into (Nova's
 * compute_utils.create_image): status `queued`, the base image's
 * inheritable properties, then instance_uuid, user_id, image_type,
 * base_image_ref, owner_project_name/owner_user_name and the caller's
 * extra properties. Private to the server's project, or `shared` with it
 * when someone from another project (an admin) takes the snapshot.
 */
export async function registerImage(
  deps: ComputeDeps,
  req: ComputeRequest,
  inst: Instance,
  o: { name: string; imageType: 'snapshot' | 'backup'; extra?: Record<string, string>; id?: string },
): Promise<string> {
  const base = inst.image_ref ? await deps.imageService.getImage(inst.image_ref) : null;
  const flavor = flavorOf(inst);
  const properties: Record<string, string> = {};
  for (const [k, v] of Object.entries(base?.properties ?? {})) {
    if (NON_INHERITABLE.has(k) || k.startsWith('os_glance')) continue;
    properties[k] = v;
  }
  const ownerProject = await nameOf(deps, 'projects', inst.project_id);
  const ownerUser = await nameOf(deps, 'users', inst.user_id);
  if (inst.image_ref) properties.base_image_ref = inst.image_ref;
  if (ownerProject !== undefined) properties.owner_project_name = ownerProject;
  if (ownerUser !== undefined) properties.owner_user_name = ownerUser;
  properties.instance_uuid = inst.uuid;
  properties.user_id = req.ctx.userId;
  properties.image_type = o.imageType;
  const foreign = req.ctx.projectId !== inst.project_id;
  if (foreign) properties.instance_owner = inst.project_id;
  Object.assign(properties, o.extra ?? {});
  const spec: NewImage = {
    ...(o.id ? { id: o.id } : {}),
    name: o.name,
    owner: req.ctx.projectId ?? inst.project_id,
    visibility: foreign ? 'shared' : 'private',
    // A snapshot's formats are what the hypervisor writes (qcow2 here); a backup keeps the base image's.
    disk_format: o.imageType === 'snapshot' ? 'qcow2' : (base?.disk_format ?? 'qcow2'),
    container_format: o.imageType === 'snapshot' ? 'bare' : (base?.container_format ?? 'bare'),
    min_ram: base?.min_ram ?? 0,
    min_disk: Math.max(base?.min_disk ?? 0, flavor.root_gb),
    properties,
  };
  const img = await deps.imageService.createImage(spec);
  if (foreign) {
    // The server's project may use the snapshot, as Nova's image client arranges.
    const now = isoMicro(deps.clock.now());
    await deps.db
      .insertInto('image_members')
      .values({ image_id: img.id, member: inst.project_id, status: 'pending', created_at: now, updated_at: now })
      .execute();
  }
  return img.id;
}

/** Deletes an image compute registered; a missing image is not an error. */
export async function dropImage(deps: Pick<ComputeDeps, 'imageService' | 'log'>, id: string): Promise<void> {
  try {
    await deps.imageService.delete(id);
  } catch (err) {
    deps.log.warn({ err, imageId: id }, 'could not delete image');
  }
}

/** The root of the public URLs (`http://host:port`), from the request's bookmark prefix. */
function rootOf(req: ComputeRequest): string {
  return req.urls.bookmark.replace(/\/compute(\/.*)?$/, '');
}

/** Where the image service serves an image (Nova's generate_image_url: the image endpoint + /images/<id>). */
export function imageUrl(req: ComputeRequest, id: string): string {
  return `${rootOf(req)}/image/images/${id}`;
}

/** createBackup's Location below 2.45: the compute application URL + /images/<id>. */
export function computeImageUrl(req: ComputeRequest, id: string): string {
  return `${rootOf(req)}/compute/v2.1/images/${id}`;
}

/**
 * The id of the image a shelve uploads into, derived from the server and
 * the shelve request's id: Nova keeps it in system_metadata, which Stratus
 * does not have, so the unshelve finds it again from the latest `shelve`
 * instance action without the image carrying any extra property.
 */
export function shelveImageId(instanceUuid: string, requestId: string): string {
  const h = createHash('sha1').update(`stratus:shelve:${instanceUuid}:${requestId}`).digest();
  h[6] = ((h[6] ?? 0) & 0x0f) | 0x50;
  h[8] = ((h[8] ?? 0) & 0x3f) | 0x80;
  const hex = h.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** The shelve snapshot of a shelved (or offloaded) server, from its latest `shelve` action; undefined when never shelved. */
export async function shelvedImageIdOf(db: ComputeDeps['db'], instanceUuid: string): Promise<string | undefined> {
  const row = await db
    .selectFrom('instance_actions')
    .select('request_id')
    .where('instance_uuid', '=', instanceUuid)
    .where('action', '=', 'shelve')
    .orderBy('id', 'desc')
    .executeTakeFirst();
  return row ? shelveImageId(instanceUuid, row.request_id) : undefined;
}

/**
 * Deleting a shelved or offloaded server deletes its shelve snapshot, as
 * Nova's delete does; used by forceDelete and by DELETE /servers/{id}
 * (src/compute/servers/server.ts).
 */
export async function deleteShelvedImage(deps: Pick<ComputeDeps, 'db' | 'imageService' | 'log'>, inst: Instance): Promise<void> {
  if (inst.vm_state !== VmState.SHELVED && inst.vm_state !== VmState.SHELVED_OFFLOADED) return;
  const id = await shelvedImageIdOf(deps.db, inst.uuid);
  if (id) await dropImage(deps, id);
}

// ---- bodies ------------------------------------------------------------------

const BASE64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Decodes base64 as Nova's `base64` format accepts it (whitespace ignored); null when it is not base64. */
export function decodeBase64(value: string): Buffer | null {
  const compact = value.replace(/\s+/g, '');
  if (!BASE64_RE.test(compact)) return null;
  return Buffer.from(compact, 'base64');
}
