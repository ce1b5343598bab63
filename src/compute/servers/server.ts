import type { ComputeRequest, Reply } from '../../api/route.js';
import { isoMicro } from '../../lib/time.js';
import { recordActionStart } from '../actions/record.js';
import { deleteShelvedImage } from '../actions/image-support.js';
import { computeTopic } from '../conductor.js';
import type { ComputeDeps } from '../deps.js';
import { TaskState } from '../states.js';
import { authorize, loadServer, renderOne, requireUnlocked, targetOf } from './common.js';
import { SP } from './policies.js';
import { casUpdate, markDeleted, type InstanceUpdate } from './repo.js';

const rc = (deps: ComputeDeps, req: ComputeRequest) => ({ deps, req });

/** GET /servers/{id} */
export async function showServer(deps: ComputeDeps, req: ComputeRequest): Promise<Reply> {
  const inst = await loadServer(deps, req, req.params.server_id ?? '');
  authorize(deps, req, SP.show, targetOf(inst));
  return { status: 200, json: `{"server":${await renderOne(rc(deps, req), inst)}}` };
}

/** PUT /servers/{id}: name, description, access IPs, disk config, hostname. */
export async function updateServer(deps: ComputeDeps, req: ComputeRequest): Promise<Reply> {
  const inst = await loadServer(deps, req, req.params.server_id ?? '');
  authorize(deps, req, SP.update, targetOf(inst));
  const s = (req.body as { server: Record<string, string | null | undefined> }).server;
  const values: InstanceUpdate = { updated_at: isoMicro(deps.clock.now()) };
  if (s.name !== undefined && s.name !== null) values.display_name = s.name;
  if ('description' in s) values.display_description = s.description ?? null;
  if (s.accessIPv4 !== undefined) values.access_ip_v4 = s.accessIPv4;
  if (s.accessIPv6 !== undefined) values.access_ip_v6 = s.accessIPv6;
  if (s['OS-DCF:diskConfig'] !== undefined && s['OS-DCF:diskConfig'] !== null) values.disk_config = s['OS-DCF:diskConfig'];
  if (s.hostname !== undefined && s.hostname !== null) values.hostname = s.hostname;
  const updated = (await casUpdate(deps.db, inst.uuid, 'any', values)) ?? inst;
  const json = await renderOne(rc(deps, req), updated);
  if (req.mv.ge('2.75')) return { status: 200, json: `{"server":${json}}` };
  // Below 2.75 the update answer is the basic view, without the extended attributes.
  const rendered = JSON.parse(json) as Record<string, unknown>;
  const basic: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(rendered)) {
    if (k.startsWith('OS-EXT-') || k.startsWith('OS-SRV-USG') || k.startsWith('os-extended-volumes') || ['config_drive', 'key_name', 'security_groups', 'host_status'].includes(k)) continue;
    basic[k] = v;
  }
  return { status: 200, body: { server: basic } };
}

/**
 * DELETE /servers/{id}: 204 at once; the host removes the guest. A server
 * never placed is deleted locally. With reclaim_instance_interval > 0 the
 * server is soft-deleted and can be restored until the interval passes.
 */
export async function deleteServer(deps: ComputeDeps, req: ComputeRequest): Promise<Reply> {
  const inst = await loadServer(deps, req, req.params.server_id ?? '');
  authorize(deps, req, SP.delete, targetOf(inst));
  requireUnlocked(req, inst);
  await deleteShelvedImage(deps, inst);
  const now = isoMicro(deps.clock.now());
  await recordActionStart(deps.db, { action: 'delete', instanceUuid: inst.uuid, requestId: req.requestId, userId: req.ctx.userId, projectId: req.ctx.projectId ?? inst.project_id, now });
  if (inst.host === null) {
    await deps.network.deallocate(inst.uuid);
    await markDeleted(deps.db, inst, now);
    return { status: 204 };
  }
  const soft = deps.config.compute.reclaim_instance_interval > 0 && inst.vm_state !== 'soft-delete' && inst.vm_state !== 'error';
  const task = soft ? TaskState.SOFT_DELETING : TaskState.DELETING;
  const updated = await casUpdate(deps.db, inst.uuid, 'any', { task_state: task, updated_at: now });
  if (updated) deps.bus.cast(computeTopic(inst.host), soft ? 'soft_delete_instance' : 'terminate_instance', { uuid: inst.uuid, requestId: req.requestId });
  return { status: 204 };
}
