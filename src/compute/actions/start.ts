import type { ComputeRequest } from '../../api/route.js';
import { errors } from '../../errors.js';
import { isoMicro } from '../../lib/time.js';
import { computeTopic } from '../conductor.js';
import type { ComputeDeps } from '../deps.js';
import { authorize, requireState, requireUnlocked, targetOf } from '../servers/common.js';
import { casUpdate, type Instance } from '../servers/repo.js';
import { recordActionStart } from './record.js';

export interface ActionStep {
  /** Policy rule checked against the server's owner. */
  policy: string;
  /** Name used in 409 messages (`Cannot 'pause' instance ...`). */
  stateAction: string;
  /** Instance-action name recorded (os-instance-actions). */
  action: string;
  /** Allowed vm_states (null: any). */
  vmStates: readonly string[] | null;
  /** Allowed task_states (default: only None; null: any). */
  taskStates?: readonly (string | null)[] | null;
  /** Refuse a locked server to non-admins (default true). */
  lockChecked?: boolean;
  /** Needs a host (409 `Instance <uuid> is not ready` without one). */
  needsHost?: boolean;
  /** task_state set before the cast, compare-and-swap on the current one. */
  taskState: string;
  /** Compute-side operation cast to the server's host. */
  method: string;
  args?: Record<string, unknown>;
}

/**
 * The API half of an action, as Nova's compute API does it: policy, lock,
 * state checks, compare-and-swap of task_state (so of two racing requests
 * exactly one wins and the other gets 409), the instance-action record under
 * the client's request id, then a cast to the server's host.
 */
export async function startAction(deps: ComputeDeps, req: ComputeRequest, inst: Instance, s: ActionStep): Promise<Instance> {
  authorize(deps, req, s.policy, targetOf(inst));
  if (s.lockChecked !== false) requireUnlocked(req, inst);
  const taskStates = s.taskStates === undefined ? [null] : s.taskStates;
  requireState(inst, s.stateAction, s.vmStates, taskStates);
  if (s.needsHost && !inst.host) throw errors.instanceNotReady(inst.uuid);
  const now = isoMicro(deps.clock.now());
  const updated = await casUpdate(deps.db, inst.uuid, taskStates ?? 'any', { task_state: s.taskState, updated_at: now });
  if (!updated) {
    const fresh = (await deps.db.selectFrom('instances').select('task_state').where('uuid', '=', inst.uuid).executeTakeFirst())?.task_state ?? null;
    throw errors.instanceInvalidState(inst.uuid, s.stateAction, 'task_state', fresh);
  }
  await recordActionStart(deps.db, {
    action: s.action,
    instanceUuid: inst.uuid,
    requestId: req.requestId,
    userId: req.ctx.userId,
    projectId: req.ctx.projectId ?? inst.project_id,
    now,
  });
  if (!inst.host) throw errors.instanceNotReady(inst.uuid);
  deps.bus.cast(computeTopic(inst.host), s.method, { uuid: inst.uuid, requestId: req.requestId, ...(s.args ?? {}) });
  return updated;
}
