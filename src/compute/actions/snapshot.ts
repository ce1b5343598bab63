import { Type } from '@sinclair/typebox';
import type { ComputeRequest } from '../../api/route.js';
import { schemaFor } from '../../api/validation.js';
import { forbidden } from '../../errors.js';
import { PROJECT_MEMBER_OR_ADMIN } from '../../policy/base.js';
import type { PolicyDefault } from '../../policy/types.js';
import type { ComputeDeps } from '../deps.js';
import { quotaLimits } from '../resources/quota.js';
import { authorize } from '../servers/common.js';
import type { Instance } from '../servers/repo.js';
import { obj, P } from '../servers/schema.js';
import { VmState } from '../states.js';
import { computeImageUrl, dropImage, imageUrl, registerImage } from './image-support.js';
import { begin, castToHost, check } from './start.js';
import type { ActionDef } from './types.js';

/**
 * createImage and createBackup: the API registers an image (queued) in the
 * image service and the host uploads the guest's disk into it
 * (src/agent/actions/snapshot.ts). Not lock-checked, as in Nova.
 */
const POLICY = {
  createImage: 'os_compute_api:servers:create_image',
  createImageVolumeBacked: 'os_compute_api:servers:create_image:allow_volume_backed',
  createBackup: 'os_compute_api:os-create-backup',
};

export const snapshotPolicies: PolicyDefault[] = [
  { name: POLICY.createImage, check: PROJECT_MEMBER_OR_ADMIN, description: 'Create an image from a server', operations: [{ method: 'POST', path: '/servers/{server_id}/action (createImage)' }] },
  {
    name: POLICY.createImageVolumeBacked,
    check: PROJECT_MEMBER_OR_ADMIN,
    description: 'Create an image from a volume backed server',
    operations: [{ method: 'POST', path: '/servers/{server_id}/action (createImage)' }],
  },
  { name: POLICY.createBackup, check: PROJECT_MEMBER_OR_ADMIN, description: 'Create a back up of a server', operations: [{ method: 'POST', path: '/servers/{server_id}/action (createBackup)' }] },
];

/** Where a snapshot may be taken from (Nova's snapshot and backup). */
const SNAPSHOT_STATES = [VmState.ACTIVE, VmState.STOPPED, VmState.PAUSED, VmState.SUSPENDED];

const createImageBody = schemaFor({
  schema: obj({ createImage: obj({ name: P.name, metadata: P.metadata }, ['name']) }, ['createImage']),
});

const createBackupBody = schemaFor({
  schema: obj(
    {
      createBackup: obj(
        {
          name: P.name,
          backup_type: Type.String(),
          rotation: Type.Union([Type.Integer({ minimum: 0 }), Type.String({ pattern: '^[0-9]*$', minLength: 1 })]),
          metadata: P.metadata,
        },
        ['name', 'backup_type', 'rotation'],
      ),
    },
    ['createBackup'],
  ),
});

/** Below 2.39 the image metadata counts against the metadata_items quota. */
async function checkImageMetadataQuota(deps: ComputeDeps, req: ComputeRequest, inst: Instance, metadata: Record<string, string>): Promise<void> {
  const n = Object.keys(metadata).length;
  if (req.mv.ge('2.39') || n === 0) return;
  const limit = (await quotaLimits(deps.db, deps.config, req.ctx.projectId ?? inst.project_id)).metadata_items;
  if (limit >= 0 && n > limit) throw forbidden('Image metadata limit exceeded');
}

/** Takes the task_state and casts; an image registered for a request that loses the race is deleted again. */
async function startSnapshot(
  deps: ComputeDeps,
  req: ComputeRequest,
  inst: Instance,
  imageId: string,
  s: { stateAction: string; taskState: string; method: string; args?: Record<string, unknown> },
): Promise<void> {
  let updated: Instance;
  try {
    updated = await begin(deps, req, inst, { stateAction: s.stateAction, action: s.stateAction, values: { task_state: s.taskState } });
  } catch (err) {
    await dropImage(deps, imageId);
    throw err;
  }
  castToHost(deps, req, updated, s.method, { imageId, ...(s.args ?? {}) });
}

export const snapshotActions: ActionDef[] = [
  {
    key: 'createImage',
    body: createImageBody,
    handler: async (deps, req, inst) => {
      const e = (req.body as { createImage: { name: string; metadata?: Record<string, string> } }).createImage;
      const metadata = e.metadata ?? {};
      authorize(deps, req, POLICY.createImage, { project_id: inst.project_id });
      await checkImageMetadataQuota(deps, req, inst, metadata);
      check(deps, req, inst, { policy: POLICY.createImage, target: 'project', stateAction: 'createImage', vmStates: SNAPSHOT_STATES, lockChecked: false });
      const imageId = await registerImage(deps, req, inst, { name: e.name.trim(), imageType: 'snapshot', extra: metadata });
      await startSnapshot(deps, req, inst, imageId, { stateAction: 'createImage', taskState: 'image_snapshot_pending', method: 'snapshot_instance' });
      if (req.mv.ge('2.45')) return { status: 202, body: { image_id: imageId } };
      return { status: 202, headers: { location: imageUrl(req, imageId) } };
    },
  },
  {
    key: 'createBackup',
    body: createBackupBody,
    handler: async (deps, req, inst) => {
      const e = (req.body as { createBackup: { name: string; backup_type: string; rotation: number | string; metadata?: Record<string, string> } })
        .createBackup;
      authorize(deps, req, POLICY.createBackup, { project_id: inst.project_id });
      const rotation = Number(e.rotation);
      const metadata = e.metadata ?? {};
      await checkImageMetadataQuota(deps, req, inst, metadata);
      check(deps, req, inst, { policy: POLICY.createBackup, target: 'project', stateAction: 'createBackup', vmStates: SNAPSHOT_STATES, lockChecked: false });
      const imageId = await registerImage(deps, req, inst, {
        name: e.name.trim(),
        imageType: 'backup',
        extra: { ...metadata, backup_type: e.backup_type },
      });
      await startSnapshot(deps, req, inst, imageId, {
        stateAction: 'createBackup',
        taskState: 'image_backup',
        method: 'backup_instance',
        args: { backupType: e.backup_type, rotation },
      });
      if (req.mv.ge('2.45')) return { status: 202, body: { image_id: imageId } };
      return { status: 202, ...(rotation > 0 ? { headers: { location: computeImageUrl(req, imageId) } } : {}) };
    },
  },
];
