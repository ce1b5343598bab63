import { hostname } from 'node:os';
import { Type } from '@sinclair/typebox';
import type { ComputeRequest } from '../../api/route.js';
import { schemaFor } from '../../api/validation.js';
import { isoMicro } from '../../lib/time.js';
import { ADMIN, PROJECT_MEMBER_OR_ADMIN } from '../../policy/base.js';
import type { PolicyDefault } from '../../policy/types.js';
import type { ComputeDeps } from '../deps.js';
import { authorize, targetOf } from '../servers/common.js';
import { casUpdate, type Instance, type InstanceUpdate } from '../servers/repo.js';
import { obj } from '../servers/schema.js';
import { eventFinish, eventStart } from './record.js';
import { recordRequestAction } from './start.js';
import type { ActionDef } from './types.js';

/**
 * lock / unlock. No compute host is involved: the API writes the lock
 * itself (Nova's compute API, with an `api_lock`/`api_unlock` event). Not
 * lock-checked and allowed in any state. An owner locks as 'owner', anyone
 * else (an admin of another project) as 'admin'; unlocking a lock taken by
 * the other kind also needs unlock_override.
 */
const POLICY = {
  lock: 'os_compute_api:os-lock-server:lock',
  unlock: 'os_compute_api:os-lock-server:unlock',
  unlockOverride: 'os_compute_api:os-lock-server:unlock:unlock_override',
};

const op = (action: string) => [{ method: 'POST', path: `/servers/{server_id}/action (${action})` }];

export const lockPolicies: PolicyDefault[] = [
  { name: POLICY.lock, check: PROJECT_MEMBER_OR_ADMIN, description: 'Lock a server', operations: op('lock') },
  { name: POLICY.unlock, check: PROJECT_MEMBER_OR_ADMIN, description: 'Unlock a server', operations: op('unlock') },
  {
    name: POLICY.unlockOverride,
    check: ADMIN,
    description: 'Unlock a server, regardless who locked the server.\n\nThis check is performed only after the check\nos_compute_api:os-lock-server:unlock passes',
    operations: op('unlock'),
  },
];

const lockSchema = schemaFor(
  { min: '2.1', max: '2.72', schema: obj({ lock: Type.Unknown() }, ['lock']) },
  {
    min: '2.73',
    schema: obj(
      { lock: Type.Union([obj({ locked_reason: Type.String({ minLength: 1, maxLength: 255 }) }), Type.Null()]) },
      ['lock'],
    ),
  },
);

const unlockSchema = schemaFor({ schema: obj({ unlock: Type.Unknown() }, ['unlock']) });

/** 'owner' when the caller acts in the server's project, else 'admin' (Nova's is_owner). */
const callerKind = (req: ComputeRequest, inst: Instance): 'owner' | 'admin' =>
  inst.project_id === req.ctx.projectId ? 'owner' : 'admin';

/** Records the instance action and its `api_<action>` event around a write of the lock fields. */
async function writeLock(deps: ComputeDeps, req: ComputeRequest, inst: Instance, action: 'lock' | 'unlock', values: InstanceUpdate): Promise<void> {
  const now = isoMicro(deps.clock.now());
  await recordRequestAction(deps, req, inst, action, now);
  const ev = await eventStart(deps.db, { instanceUuid: inst.uuid, requestId: req.requestId, event: `api_${action}`, host: hostname() }, now);
  try {
    await casUpdate(deps.db, inst.uuid, 'any', { ...values, updated_at: now });
  } catch (err) {
    await eventFinish(deps.db, ev, isoMicro(deps.clock.now()), err);
    throw err;
  }
  await eventFinish(deps.db, ev, isoMicro(deps.clock.now()));
}

export const lockActions: ActionDef[] = [
  {
    key: 'lock',
    body: lockSchema,
    handler: async (deps, req, inst) => {
      authorize(deps, req, POLICY.lock, targetOf(inst));
      const lock = (req.body as { lock: unknown }).lock;
      const reason =
        req.mv.ge('2.73') && lock !== null && typeof lock === 'object' ? (lock as { locked_reason?: string }).locked_reason : undefined;
      const kind = callerKind(req, inst);
      // The owner re-locking a locked server changes nothing (not even the reason).
      if (inst.locked === 1 && kind === 'owner') return { status: 202 };
      await writeLock(deps, req, inst, 'lock', { locked: 1, locked_by: kind, ...(reason ? { locked_reason: reason } : {}) });
      return { status: 202 };
    },
  },
  {
    key: 'unlock',
    body: unlockSchema,
    handler: async (deps, req, inst) => {
      const target = { project_id: inst.project_id };
      authorize(deps, req, POLICY.unlock, target);
      if (inst.locked_by && inst.locked_by !== callerKind(req, inst)) authorize(deps, req, POLICY.unlockOverride, target);
      await writeLock(deps, req, inst, 'unlock', { locked: 0, locked_by: null, locked_reason: null });
      return { status: 202 };
    },
  },
];
