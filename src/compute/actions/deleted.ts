import { Type } from '@sinclair/typebox';
import { schemaFor } from '../../api/validation.js';
import { conflict } from '../../errors.js';
import { isoMicro } from '../../lib/time.js';
import { PROJECT_MEMBER_OR_ADMIN } from '../../policy/base.js';
import type { PolicyDefault } from '../../policy/types.js';
import { computeTopic } from '../conductor.js';
import { checkServerQuota } from '../resources/quota.js';
import { casUpdate, markDeleted } from '../servers/repo.js';
import { obj } from '../servers/schema.js';
import { TaskState, VmState } from '../states.js';
import { deleteShelvedImage } from './image-support.js';
import { begin, castToHost, check, recordRequestAction } from './start.js';
import type { ActionDef } from './types.js';

/**
 * Deferred delete (reclaim_instance_interval > 0): restore brings a
 * soft-deleted server back (powered on again); forceDelete deletes a server
 * now, whatever its state. Soft-deleted servers older than the interval are
 * reclaimed by the periodic task (src/compute/periodic.ts).
 */
const POLICY = {
  restore: 'os_compute_api:os-deferred-delete:restore',
  force: 'os_compute_api:os-deferred-delete:force',
};

export const deletedPolicies: PolicyDefault[] = [
  { name: POLICY.restore, check: PROJECT_MEMBER_OR_ADMIN, description: 'Restore a soft deleted server', operations: [{ method: 'POST', path: '/servers/{server_id}/action (restore)' }] },
  { name: POLICY.force, check: PROJECT_MEMBER_OR_ADMIN, description: 'Force delete a server before deferred cleanup', operations: [{ method: 'POST', path: '/servers/{server_id}/action (forceDelete)' }] },
];

const anyValue = (key: string) => schemaFor({ schema: obj({ [key]: Type.Unknown() }, [key]) });

export const deletedActions: ActionDef[] = [
  {
    key: 'restore',
    body: anyValue('restore'),
    handler: async (deps, req, inst) => {
      check(deps, req, inst, {
        policy: POLICY.restore,
        target: 'project',
        stateAction: 'restore',
        vmStates: [VmState.SOFT_DELETED],
        // Nova's API does not catch the lock error separately for restore: it shows as an invalid state.
        lockError: (uuid) => conflict(`Instance ${uuid} is in an invalid state for 'restore'`),
      });
      await checkServerQuota(deps.db, deps.config, inst.project_id, inst.user_id, { instances: 1, cores: inst.vcpus, ram: inst.memory_mb });
      if (!inst.host) {
        await begin(deps, req, inst, {
          stateAction: 'restore',
          action: 'restore',
          values: { vm_state: VmState.ACTIVE, task_state: null, deleted_at: null },
        });
        return { status: 202 };
      }
      const updated = await begin(deps, req, inst, { stateAction: 'restore', action: 'restore', values: { task_state: TaskState.RESTORING, deleted_at: null } });
      castToHost(deps, req, updated, 'restore_instance');
      return { status: 202 };
    },
  },
  {
    key: 'forceDelete',
    body: anyValue('forceDelete'),
    handler: async (deps, req, inst) => {
      check(deps, req, inst, { policy: POLICY.force, target: 'owner', stateAction: 'forceDelete', vmStates: null, taskStates: null, mustHaveLaunched: false });
      const now = isoMicro(deps.clock.now());
      if (inst.host && (inst.task_state === TaskState.DELETING || inst.task_state === TaskState.SOFT_DELETING)) {
        // Already being deleted: Nova ignores the request.
        return { status: 202 };
      }
      await recordRequestAction(deps, req, inst, 'delete', now);
      await deleteShelvedImage(deps, inst);
      if (!inst.host) {
        await deps.network.deallocate(inst.uuid);
        await markDeleted(deps.db, inst, now);
        return { status: 202 };
      }
      const updated = await casUpdate(deps.db, inst.uuid, 'any', { task_state: TaskState.DELETING, progress: 0, updated_at: now });
      if (updated?.host) deps.bus.cast(computeTopic(updated.host), 'terminate_instance', { uuid: inst.uuid, requestId: req.requestId });
      return { status: 202 };
    },
  },
];

