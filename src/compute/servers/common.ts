import { credentials } from '../../context.js';
import { errors } from '../../errors.js';
import type { ComputeRequest } from '../../api/route.js';
import type { ComputeDeps } from '../deps.js';
import { VmState } from '../states.js';
import { SP } from './policies.js';
import { faultsOf, findInstance, metadataOf, tagsOf, type Instance } from './repo.js';
import { serverDetail, type ServerExtras } from './view.js';
import { hostStatuses } from '../os-services/repo.js';
import { groupsOfServers } from '../server-groups/repo.js';

/** A server's policy target: its owner. */
export const targetOf = (i: Instance): Record<string, unknown> => ({ project_id: i.project_id, user_id: i.user_id });

export function authorize(deps: ComputeDeps, req: ComputeRequest, rule: string, target: Record<string, unknown>): void {
  deps.policy.authorize(rule, target, credentials(req.ctx));
}

export function allowed(deps: ComputeDeps, req: ComputeRequest, rule: string, target: Record<string, unknown>): boolean {
  return deps.policy.allowed(rule, target, credentials(req.ctx));
}

/**
 * Loads a server the caller can reach: their project's, or any for admins.
 * Another project's server is a 404 before any policy is asked, as in Nova.
 */
export async function loadServer(deps: ComputeDeps, req: ComputeRequest, uuid: string): Promise<Instance> {
  const inst = await findInstance(deps.db, uuid, { projectId: req.ctx.isAdmin ? null : req.ctx.projectId ?? '' });
  if (!inst) throw errors.instanceNotFound(uuid);
  return inst;
}

/** Refuses a locked server to non-admins (Nova's check_instance_lock). */
export function requireUnlocked(req: ComputeRequest, inst: Instance): void {
  if (inst.locked === 1 && !req.ctx.isAdmin) throw errors.instanceLocked(inst.uuid);
}

/**
 * Refuses an action unless the server is in one of `vmStates` and its
 * task_state is one of `taskStates` (Nova's check_instance_state).
 */
export function requireState(
  inst: Instance,
  action: string,
  vmStates: readonly string[] | null,
  taskStates: readonly (string | null)[] | null = [null],
): void {
  if (vmStates !== null && !vmStates.includes(inst.vm_state)) {
    throw errors.instanceInvalidState(inst.uuid, action, 'vm_state', inst.vm_state);
  }
  if (taskStates !== null && !taskStates.includes(inst.task_state)) {
    throw errors.instanceInvalidState(inst.uuid, action, 'task_state', inst.task_state);
  }
}

/**
 * host_status as Nova derives it from the compute service of the server's
 * host (`statuses`: host -> status, from os-services/repo.ts hostStatuses):
 * "" without a host or service.
 */
export function hostStatusOf(inst: Pick<Instance, 'host'>, statuses: ReadonlyMap<string, string>): string {
  if (!inst.host) return '';
  return statuses.get(inst.host) ?? '';
}

export interface RenderContext {
  deps: ComputeDeps;
  req: ComputeRequest;
  /** host -> host_status; loaded from the compute services when absent. */
  hostStatuses?: ReadonlyMap<string, string>;
}

/** The columns needed to find a rendered body in the cache. */
export type ServerKey = Pick<Instance, 'id' | 'uuid' | 'rev' | 'project_id' | 'user_id'>;
export const SERVER_KEY_COLUMNS = ['id', 'uuid', 'rev', 'project_id', 'user_id'] as const;

interface Variant {
  extended: boolean;
  flavorExtraSpecs: boolean;
  hostStatus: 'all' | 'unknown' | 'none';
  key: string;
}

/** What this caller may see of servers owned by (project, user), computed once per owner. */
function variants(rc: RenderContext, statuses: ReadonlyMap<string, string>): (k: ServerKey) => Variant {
  const { deps, req } = rc;
  // The hosts' statuses are part of the variant: a service change must not serve a stale host_status.
  const states = [...statuses.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([h, s]) => `${h}=${s}`).join(',');
  const cache = new Map<string, Variant>();
  const base = [req.mv.toString(), req.ctx.isAdmin ? 'a' : 'm', req.urls.versioned, req.urls.bookmark, states].join('|');
  return (k) => {
    const owner = `${k.project_id}|${k.user_id}`;
    let v = cache.get(owner);
    if (!v) {
      const target = { project_id: k.project_id, user_id: k.user_id };
      const extended = allowed(deps, req, SP.extendedAttributes, target);
      const flavorExtraSpecs = req.mv.ge('2.47') && allowed(deps, req, SP.showFlavorExtraSpecs, target);
      const hostStatus = !req.mv.ge('2.16')
        ? 'none'
        : allowed(deps, req, SP.showHostStatus, target)
          ? 'all'
          : allowed(deps, req, SP.showHostStatusUnknownOnly, target)
            ? 'unknown'
            : 'none';
      v = { extended, flavorExtraSpecs, hostStatus, key: String(deps.renderCache.variantId(`${base}|${extended ? 1 : 0}${flavorExtraSpecs ? 1 : 0}${hostStatus}`)) };
      cache.set(owner, v);
    }
    return v;
  };
}

/** Renders full server bodies for many servers with batched lookups, as JSON text, reusing cached renders. */
export async function renderServers(rc: RenderContext, keys: ServerKey[], single: boolean): Promise<string[]> {
  const { deps, req } = rc;
  const statuses = rc.hostStatuses ?? (req.mv.ge('2.16') ? await hostStatuses(deps) : new Map<string, string>());
  const variantOf = variants(rc, statuses);
  const cacheKey = (k: ServerKey) => `${k.uuid}|${single ? 's' : 'l'}|${variantOf(k).key}`;
  const out = keys.map((k) => deps.renderCache.get(cacheKey(k), k.rev));
  const missing = keys.filter((_, i) => out[i] === undefined);
  if (missing.length > 0) {
    const rows = await instancesById(deps, missing.map((k) => k.id));
    const uuids = rows.map((i) => i.uuid);
    const [metadata, tags, addresses, faults, serverGroups] = await Promise.all([
      metadataOf(deps.db, uuids),
      req.mv.ge('2.26') ? tagsOf(deps.db, uuids) : Promise.resolve(new Map<string, string[]>()),
      deps.network.addressesOf(uuids),
      faultsOf(deps.db, rows.filter((i) => i.vm_state === VmState.ERROR || i.vm_state === VmState.DELETED).map((i) => i.uuid)),
      single && req.mv.ge('2.71') ? groupsOfServers(deps.db, uuids) : Promise.resolve(new Map<string, string[]>()),
    ]);
    const rendered = new Map<number, string>();
    for (const i of rows) {
      const v = variantOf(i);
      const status = hostStatusOf(i, statuses);
      const extras: ServerExtras = {
        metadata: metadata.get(i.uuid) ?? {},
        tags: tags.get(i.uuid) ?? [],
        addresses: addresses.get(i.uuid) ?? {},
        fault: faults.get(i.uuid),
        hostStatus: v.hostStatus === 'all' || (v.hostStatus === 'unknown' && status === 'UNKNOWN') ? status : undefined,
        serverGroups: serverGroups.get(i.uuid) ?? [],
      };
      const json = JSON.stringify(
        serverDetail(i, extras, { mv: req.mv, urls: req.urls, extended: v.extended, isAdmin: req.ctx.isAdmin, flavorExtraSpecs: v.flavorExtraSpecs, single }),
      );
      deps.renderCache.set(cacheKey(i), i.rev, json);
      rendered.set(i.id, json);
    }
    keys.forEach((k, idx) => {
      if (out[idx] === undefined) out[idx] = rendered.get(k.id);
    });
  }
  return out.filter((j): j is string => j !== undefined);
}

async function instancesById(deps: ComputeDeps, ids: number[]): Promise<Instance[]> {
  const rows: Instance[] = [];
  for (let i = 0; i < ids.length; i += 500) {
    rows.push(...(await deps.db.selectFrom('instances').selectAll().where('id', 'in', ids.slice(i, i + 500)).execute()));
  }
  return rows;
}

/** One server's body as JSON text. */
export async function renderOne(rc: RenderContext, inst: ServerKey): Promise<string> {
  const [json] = await renderServers(rc, [inst], true);
  return json ?? '{}';
}
