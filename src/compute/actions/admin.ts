import { Type } from '@sinclair/typebox';
import { schemaFor } from '../../api/validation.js';
import { gone } from '../../errors.js';
import { isoMicro } from '../../lib/time.js';
import { ADMIN } from '../../policy/base.js';
import type { PolicyDefault } from '../../policy/types.js';
import { computeTopic } from '../conductor.js';
import { authorize, requireUnlocked } from '../servers/common.js';
import { casUpdate } from '../servers/repo.js';
import { obj } from '../servers/schema.js';
import { VmState } from '../states.js';
import { recordRequestAction } from './start.js';
import type { ActionDef } from './types.js';

/**
 * Admin actions: os-resetState (write vm_state, clear task_state; any state,
 * not lock-checked), injectNetworkInfo (lock-checked; the host pushes the
 * network configuration into the guest) and resetNetwork, which Nova
 * removed in 23.0.0 (Wallaby) and answers with 410 Gone.
 */
const POLICY = {
  resetState: 'os_compute_api:os-admin-actions:reset_state',
  injectNetworkInfo: 'os_compute_api:os-admin-actions:inject_network_info',
};

export const adminPolicies: PolicyDefault[] = [
  {
    name: POLICY.resetState,
    check: ADMIN,
    description: 'Reset the state of a given server',
    operations: [{ method: 'POST', path: '/servers/{server_id}/action (os-resetState)' }],
  },
  {
    name: POLICY.injectNetworkInfo,
    check: ADMIN,
    description: 'Inject network information into the server',
    operations: [{ method: 'POST', path: '/servers/{server_id}/action (injectNetworkInfo)' }],
  },
];

/** webob's HTTPGone explanation, whitespace-normalised as webob does. */
const GONE = 'This resource is no longer available. No forwarding address is given.';

const STATES: Record<string, string> = { active: VmState.ACTIVE, error: VmState.ERROR };

export const adminActions: ActionDef[] = [
  {
    key: 'os-resetState',
    body: schemaFor({
      schema: obj(
        { 'os-resetState': obj({ state: Type.Union([Type.Literal('active'), Type.Literal('error')]) }, ['state']) },
        ['os-resetState'],
      ),
    }),
    handler: async (deps, req, inst) => {
      authorize(deps, req, POLICY.resetState, { project_id: inst.project_id });
      const state = STATES[(req.body as { 'os-resetState': { state: string } })['os-resetState'].state] ?? VmState.ACTIVE;
      const now = isoMicro(deps.clock.now());
      await recordRequestAction(deps, req, inst, 'resetState', now);
      await casUpdate(deps.db, inst.uuid, 'any', { vm_state: state, task_state: null, updated_at: now });
      // The action has no events and finishes at once.
      const done = isoMicro(deps.clock.now());
      await deps.db
        .updateTable('instance_actions')
        .set({ finish_time: done, updated_at: done })
        .where('instance_uuid', '=', inst.uuid)
        .where('request_id', '=', req.requestId)
        .execute();
      return { status: 202 };
    },
  },
  {
    key: 'injectNetworkInfo',
    body: schemaFor({ schema: obj({ injectNetworkInfo: Type.Unknown() }, ['injectNetworkInfo']) }),
    handler: (deps, req, inst) => {
      authorize(deps, req, POLICY.injectNetworkInfo, { project_id: inst.project_id });
      requireUnlocked(req, inst);
      // Nova records no instance action for this one.
      if (inst.host) deps.bus.cast(computeTopic(inst.host), 'inject_network_info', { uuid: inst.uuid });
      return Promise.resolve({ status: 202 });
    },
  },
  {
    key: 'resetNetwork',
    body: schemaFor({ schema: Type.Unknown() }),
    handler: () => Promise.reject(gone(GONE)),
  },
];
