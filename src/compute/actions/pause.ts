import { Type } from '@sinclair/typebox';
import { schemaFor } from '../../api/validation.js';
import { PROJECT_MEMBER_OR_ADMIN } from '../../policy/base.js';
import type { PolicyDefault } from '../../policy/types.js';
import { VmState } from '../states.js';
import { obj } from '../servers/schema.js';
import { startAction } from './start.js';
import type { ActionDef } from './types.js';

/**
 * The exemplar action (see docs/adding-an-action.md): pause freezes a
 * running server in memory, unpause thaws it. Every other action copies
 * this shape: policy defaults, body schema, state rule, then startAction.
 */
const POLICY = {
  pause: 'os_compute_api:os-pause-server:pause',
  unpause: 'os_compute_api:os-pause-server:unpause',
};

export const pausePolicies: PolicyDefault[] = [
  { name: POLICY.pause, check: PROJECT_MEMBER_OR_ADMIN, description: 'Pause a server', operations: [{ method: 'POST', path: '/servers/{server_id}/action (pause)' }] },
  { name: POLICY.unpause, check: PROJECT_MEMBER_OR_ADMIN, description: 'Unpause a paused server', operations: [{ method: 'POST', path: '/servers/{server_id}/action (unpause)' }] },
];

export const pauseActions: ActionDef[] = [
  {
    key: 'pause',
    body: schemaFor({ schema: obj({ pause: Type.Null() }, ['pause']) }),
    handler: async (deps, req, inst) => {
      await startAction(deps, req, inst, {
        policy: POLICY.pause,
        stateAction: 'pause',
        action: 'pause',
        vmStates: [VmState.ACTIVE],
        taskState: 'pausing',
        method: 'pause_instance',
      });
      return { status: 202 };
    },
  },
  {
    key: 'unpause',
    body: schemaFor({ schema: obj({ unpause: Type.Null() }, ['unpause']) }),
    handler: async (deps, req, inst) => {
      await startAction(deps, req, inst, {
        policy: POLICY.unpause,
        stateAction: 'unpause',
        action: 'unpause',
        vmStates: [VmState.PAUSED],
        taskState: 'unpausing',
        method: 'unpause_instance',
      });
      return { status: 202 };
    },
  },
];
