import type { ComputeRequest } from '../../api/route.js';
import { errors, type ApiError } from '../../errors.js';
import { isoMicro } from '../../lib/time.js';
import { computeTopic } from '../conductor.js';
import type { ComputeDeps } from '../deps.js';
import { authorize, requireState, targetOf } from '../servers/common.js';
import { casUpdate, type Instance, type InstanceUpdate } from '../servers/repo.js';
import { recordActionStart } from './record.js';

/** Nova's API-side checks of an action (compute/api.py decorators). */
export interface Check {
  /** Policy rule checked against the server. */
  policy: string;
  /** Policy target: the owner (project and user, default) or, where Nova passes only that, the project. */
  target?: 'owner' | 'project';
  /** Name used in 409 messages (`Cannot 'pause' instance ...`). */
  stateAction: string;
  /** Allowed vm_states (null: any). */
  vmStates: readonly string[] | null;
  /** Allowed task_states (default: only None; null: any). */
  taskStates?: readonly (string | null)[] | null;
  /** check_instance_lock: refuse a locked server to non-admins (default true). */
  lockChecked?: boolean;
  /** The 409 for a locked server (default `Instance <uuid> is locked`). */
  lockError?: (uuid: string) => ApiError;
  /** check_instance_host: no host is `Instance <uuid> is not ready`. */
  needsHost?: boolean;
  /** check_instance_state's must_have_launched (default true). */
  mustHaveLaunched?: boolean;
}

/**
 * Policy, check_instance_lock, check_instance_host, then
 * check_instance_state (vm_state, task_state, launched_at): Nova's order,
 * throwing the fault the client would see.
 */
export function check(deps: ComputeDeps, req: ComputeRequest, inst: Instance, c: Check): void {
  authorize(deps, req, c.policy, c.target === 'project' ? { project_id: inst.project_id } : targetOf(inst));
  if (c.lockChecked !== false && inst.locked === 1 && !req.ctx.isAdmin) {
    throw c.lockError ? c.lockError(inst.uuid) : errors.instanceLocked(inst.uuid);
  }
  if (c.needsHost && !inst.host) throw errors.instanceNotReady(inst.uuid);
  requireState(inst, c.stateAction, c.vmStates, c.taskStates === undefined ? [null] : c.taskStates);
  if (c.mustHaveLaunched !== false && !inst.launched_at) {
    throw errors.instanceInvalidState(inst.uuid, c.stateAction, 'launched_at', null);
  }
}

/** Opens the instance action under the request id the client saw in x-openstack-request-id. */
export async function recordRequestAction(deps: ComputeDeps, req: ComputeRequest, inst: Instance, action: string, now?: string): Promise<void> {
  await recordActionStart(deps.db, {
    action,
    instanceUuid: inst.uuid,
    requestId: req.requestId,
    userId: req.ctx.userId,
    projectId: req.ctx.projectId ?? inst.project_id,
    now: now ?? isoMicro(deps.clock.now()),
  });
}

/**
 * Takes the task_state (compare-and-swap from `from`, default None) with
 * other values in the same write, then records the instance action. Of two
 * racing requests one wins; the other gets Nova's task_state 409.
 */
export async function begin(
  deps: ComputeDeps,
  req: ComputeRequest,
  inst: Instance,
  b: { stateAction: string; action: string; values: InstanceUpdate; from?: readonly (string | null)[] | 'any' },
): Promise<Instance> {
  const now = isoMicro(deps.clock.now());
  const updated = await casUpdate(deps.db, inst.uuid, b.from ?? [null], { ...b.values, updated_at: now });
  if (!updated) {
    const fresh = await deps.db.selectFrom('instances').select('task_state').where('uuid', '=', inst.uuid).executeTakeFirst();
    throw errors.instanceInvalidState(inst.uuid, b.stateAction, 'task_state', fresh?.task_state ?? null);
  }
  await recordRequestAction(deps, req, inst, b.action, now);
  return updated;
}

/** Casts a compute-side operation to the server's host (409 `not ready` without one). */
export function castToHost(deps: ComputeDeps, req: ComputeRequest, inst: Instance, method: string, args: Record<string, unknown> = {}): void {
  if (!inst.host) throw errors.instanceNotReady(inst.uuid);
  deps.bus.cast(computeTopic(inst.host), method, { uuid: inst.uuid, requestId: req.requestId, ...args });
}

export interface ActionStep extends Check {
  /** Instance-action name recorded (os-instance-actions). */
  action: string;
  /** task_state set before the cast, compare-and-swap on the current one. */
  taskState: string;
  /** Compute-side operation cast to the server's host. */
  method: string;
  args?: Record<string, unknown>;
}

/**
 * The API half of most actions, as Nova's compute API does it: the checks
 * (policy, lock, host, state), compare-and-swap of task_state, the
 * instance-action record, then a cast to the server's host.
 */
export async function startAction(deps: ComputeDeps, req: ComputeRequest, inst: Instance, s: ActionStep): Promise<Instance> {
  check(deps, req, inst, s);
  const taskStates = s.taskStates === undefined ? [null] : s.taskStates;
  const updated = await begin(deps, req, inst, { stateAction: s.stateAction, action: s.action, values: { task_state: s.taskState }, from: taskStates ?? 'any' });
  castToHost(deps, req, updated, s.method, s.args);
  return updated;
}
