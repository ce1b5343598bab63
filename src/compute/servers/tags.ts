import type { ComputeRequest, Reply } from '../../api/route.js';
import { badRequest, notFound } from '../../errors.js';
import { isoMicro } from '../../lib/time.js';
import type { ComputeDeps } from '../deps.js';
import { VmState } from '../states.js';
import { authorize, loadServer, requireState, targetOf } from './common.js';
import { SP } from './policies.js';
import { tagsOf, touchInstance, type Instance } from './repo.js';

const MAX_TAGS = 50;
const TAG_STATES = [VmState.ACTIVE, VmState.PAUSED, VmState.SUSPENDED, VmState.STOPPED];

async function tags(deps: ComputeDeps, uuid: string): Promise<string[]> {
  return (await tagsOf(deps.db, [uuid])).get(uuid) ?? [];
}

async function writable(deps: ComputeDeps, req: ComputeRequest, rule: string, action: string): Promise<Instance> {
  const inst = await loadServer(deps, req, req.params.server_id ?? '');
  authorize(deps, req, rule, targetOf(inst));
  requireState(inst, action, TAG_STATES, null);
  return inst;
}

async function setTags(deps: ComputeDeps, uuid: string, list: string[]): Promise<void> {
  await deps.db.transaction().execute(async (tx) => {
    await tx.deleteFrom('instance_tags').where('instance_uuid', '=', uuid).execute();
    if (list.length > 0) await tx.insertInto('instance_tags').values(list.map((tag) => ({ instance_uuid: uuid, tag }))).execute();
    await touchInstance(tx, uuid, { updated_at: isoMicro(deps.clock.now()) });
  });
}

function checkTag(tag: string): void {
  if (tag.length === 0 || tag.length > 60 || /[,/]/.test(tag)) {
    throw badRequest(`Invalid input for field/attribute tag. Value: ${tag}. '${tag}' does not match '^[^,/]*$'`);
  }
}

export async function listTags(deps: ComputeDeps, req: ComputeRequest): Promise<Reply> {
  const inst = await loadServer(deps, req, req.params.server_id ?? '');
  authorize(deps, req, SP.tagsIndex, targetOf(inst));
  return { status: 200, body: { tags: await tags(deps, inst.uuid) } };
}

export async function checkTagExists(deps: ComputeDeps, req: ComputeRequest): Promise<Reply> {
  const inst = await loadServer(deps, req, req.params.server_id ?? '');
  authorize(deps, req, SP.tagsShow, targetOf(inst));
  const tag = req.params.tag ?? '';
  if (!(await tags(deps, inst.uuid)).includes(tag)) throw notFound(`Tag '${tag}' could not be found for instance ${inst.uuid}.`);
  return { status: 204 };
}

export async function replaceTags(deps: ComputeDeps, req: ComputeRequest): Promise<Reply> {
  const inst = await writable(deps, req, SP.tagsUpdateAll, 'update tags');
  const list = [...new Set((req.body as { tags: string[] }).tags)];
  await setTags(deps, inst.uuid, list);
  return { status: 200, body: { tags: list.sort() } };
}

export async function addTag(deps: ComputeDeps, req: ComputeRequest): Promise<Reply> {
  const inst = await writable(deps, req, SP.tagsUpdate, 'update tag');
  const tag = req.params.tag ?? '';
  checkTag(tag);
  const list = await tags(deps, inst.uuid);
  if (list.includes(tag)) return { status: 204 };
  if (list.length >= MAX_TAGS) throw badRequest(`The number of tags exceeded the per-server limit ${MAX_TAGS}`);
  await setTags(deps, inst.uuid, [...list, tag]);
  return { status: 201, headers: { location: `${req.urls.versioned}/servers/${inst.uuid}/tags/${encodeURIComponent(tag)}` } };
}

export async function deleteTag(deps: ComputeDeps, req: ComputeRequest): Promise<Reply> {
  const inst = await writable(deps, req, SP.tagsDelete, 'delete tag');
  const tag = req.params.tag ?? '';
  const list = await tags(deps, inst.uuid);
  if (!list.includes(tag)) throw notFound(`Tag '${tag}' could not be found for instance ${inst.uuid}.`);
  await setTags(deps, inst.uuid, list.filter((t) => t !== tag));
  return { status: 204 };
}

export async function deleteAllTags(deps: ComputeDeps, req: ComputeRequest): Promise<Reply> {
  const inst = await writable(deps, req, SP.tagsDeleteAll, 'delete tags');
  await setTags(deps, inst.uuid, []);
  return { status: 204 };
}
