import type { ComputeRequest, Reply } from '../../api/route.js';
import { badRequest, notFound } from '../../errors.js';
import { isoMicro } from '../../lib/time.js';
import type { ComputeDeps } from '../deps.js';
import { checkMetadataItemsQuota } from '../resources/quota.js';
import { VmState } from '../states.js';
import { authorize, loadServer, requireState, requireUnlocked, targetOf } from './common.js';
import { SP } from './policies.js';
import { metadataOf, touchInstance, type Instance } from './repo.js';

const WRITABLE = [VmState.ACTIVE, VmState.PAUSED, VmState.SUSPENDED, VmState.STOPPED];

async function current(deps: ComputeDeps, uuid: string): Promise<Record<string, string>> {
  return (await metadataOf(deps.db, [uuid])).get(uuid) ?? {};
}

async function writable(deps: ComputeDeps, req: ComputeRequest, rule: string, action: string): Promise<Instance> {
  const inst = await loadServer(deps, req, req.params.server_id ?? '');
  authorize(deps, req, rule, targetOf(inst));
  requireUnlocked(req, inst);
  requireState(inst, action, WRITABLE, null);
  return inst;
}

/** Replaces (or merges into) a server's metadata, checking the item quota. */
async function save(deps: ComputeDeps, inst: Instance, meta: Record<string, string>, replace: boolean): Promise<Record<string, string>> {
  const merged = replace ? meta : { ...(await current(deps, inst.uuid)), ...meta };
  await checkMetadataItemsQuota(deps.db, deps.config, inst.project_id, Object.keys(merged).length);
  await deps.db.transaction().execute(async (tx) => {
    await tx.deleteFrom('instance_metadata').where('instance_uuid', '=', inst.uuid).execute();
    const rows = Object.entries(merged).map(([key, value]) => ({ instance_uuid: inst.uuid, key, value }));
    if (rows.length > 0) await tx.insertInto('instance_metadata').values(rows).execute();
    await touchInstance(tx, inst.uuid, { updated_at: isoMicro(deps.clock.now()) });
  });
  return merged;
}

export async function listMetadata(deps: ComputeDeps, req: ComputeRequest): Promise<Reply> {
  const inst = await loadServer(deps, req, req.params.server_id ?? '');
  authorize(deps, req, SP.metaIndex, targetOf(inst));
  return { status: 200, body: { metadata: await current(deps, inst.uuid) } };
}

export async function showMetadataItem(deps: ComputeDeps, req: ComputeRequest): Promise<Reply> {
  const inst = await loadServer(deps, req, req.params.server_id ?? '');
  authorize(deps, req, SP.metaShow, targetOf(inst));
  const key = req.params.key ?? '';
  const meta = await current(deps, inst.uuid);
  if (!(key in meta)) throw notFound('Metadata item was not found');
  return { status: 200, body: { meta: { [key]: meta[key] } } };
}

/** POST /servers/{id}/metadata merges. */
export async function createMetadata(deps: ComputeDeps, req: ComputeRequest): Promise<Reply> {
  const inst = await writable(deps, req, SP.metaCreate, 'update metadata');
  const meta = (req.body as { metadata: Record<string, string> }).metadata;
  return { status: 200, body: { metadata: await save(deps, inst, meta, false) } };
}

/** PUT /servers/{id}/metadata replaces. */
export async function replaceMetadata(deps: ComputeDeps, req: ComputeRequest): Promise<Reply> {
  const inst = await writable(deps, req, SP.metaUpdateAll, 'update metadata');
  const meta = (req.body as { metadata: Record<string, string> }).metadata;
  return { status: 200, body: { metadata: await save(deps, inst, meta, true) } };
}

/** PUT /servers/{id}/metadata/{key} sets one item; the body key must match the URL. */
export async function updateMetadataItem(deps: ComputeDeps, req: ComputeRequest): Promise<Reply> {
  const inst = await writable(deps, req, SP.metaUpdate, 'update metadata');
  const key = req.params.key ?? '';
  const meta = (req.body as { meta: Record<string, string> }).meta;
  if (!(key in meta)) throw badRequest('Request body and URI mismatch');
  await save(deps, inst, { [key]: meta[key] ?? '' }, false);
  return { status: 200, body: { meta: { [key]: meta[key] } } };
}

export async function deleteMetadataItem(deps: ComputeDeps, req: ComputeRequest): Promise<Reply> {
  const inst = await writable(deps, req, SP.metaDelete, 'delete metadata');
  const key = req.params.key ?? '';
  const meta = await current(deps, inst.uuid);
  if (!(key in meta)) throw notFound('Metadata item was not found');
  delete meta[key];
  await save(deps, inst, meta, true);
  return { status: 204 };
}
