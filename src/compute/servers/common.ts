import { credentials } from '../../context.js';
import { errors } from '../../errors.js';
import type { ComputeRequest } from '../../api/route.js';
import type { ComputeDeps } from '../deps.js';
import { VmState } from '../states.js';
import { SP } from './policies.js';
import { faultsOf, findInstance, metadataOf, tagsOf, type Instance } from './repo.js';
import { serverDetail, type ServerExtras } from './view.js';

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

/** host_status as Nova derives it from the compute service of the server's host. */
export function hostStatusOf(deps: ComputeDeps, inst: Instance, disabled: ReadonlySet<string>): string {
  if (!inst.host) return '';
  if (!deps.config.compute.hosts.some((h) => h.name === inst.host)) return 'UNKNOWN';
  return disabled.has(inst.host) ? 'MAINTENANCE' : 'UP';
}

export interface RenderContext {
  deps: ComputeDeps;
  req: ComputeRequest;
  disabledHosts: ReadonlySet<string>;
}

/** Renders full server bodies for many servers with batched lookups. */
export async function renderDetails(rc: RenderContext, instances: Instance[], single: boolean): Promise<Record<string, unknown>[]> {
  const { deps, req } = rc;
  const uuids = instances.map((i) => i.uuid);
  const [metadata, tags, addresses, faults] = await Promise.all([
    metadataOf(deps.db, uuids),
    req.mv.ge('2.26') ? tagsOf(deps.db, uuids) : Promise.resolve(new Map<string, string[]>()),
    deps.network.addressesOf(uuids),
    faultsOf(deps.db, instances.filter((i) => i.vm_state === VmState.ERROR || i.vm_state === VmState.DELETED).map((i) => i.uuid)),
  ]);
  const cache = new Map<string, boolean>();
  const can = (rule: string, i: Instance): boolean => {
    const key = `${rule}|${i.project_id}|${i.user_id}`;
    let v = cache.get(key);
    if (v === undefined) {
      v = allowed(deps, req, rule, targetOf(i));
      cache.set(key, v);
    }
    return v;
  };
  return instances.map((i) => {
    let hostStatus: string | undefined;
    if (req.mv.ge('2.16')) {
      const status = hostStatusOf(deps, i, rc.disabledHosts);
      if (can(SP.showHostStatus, i)) hostStatus = status;
      else if (can(SP.showHostStatusUnknownOnly, i) && status === 'UNKNOWN') hostStatus = status;
    }
    const extras: ServerExtras = {
      metadata: metadata.get(i.uuid) ?? {},
      tags: tags.get(i.uuid) ?? [],
      addresses: addresses.get(i.uuid) ?? {},
      fault: faults.get(i.uuid),
      hostStatus,
    };
    return serverDetail(i, extras, {
      mv: req.mv,
      urls: req.urls,
      extended: can(SP.extendedAttributes, i),
      isAdmin: req.ctx.isAdmin,
      flavorExtraSpecs: req.mv.ge('2.47') && can(SP.showFlavorExtraSpecs, i),
      single,
    });
  });
}

export async function renderOne(rc: RenderContext, inst: Instance): Promise<Record<string, unknown>> {
  const [body] = await renderDetails(rc, [inst], true);
  return body ?? {};
}
