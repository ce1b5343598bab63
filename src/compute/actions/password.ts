import { Type } from '@sinclair/typebox';
import { schemaFor } from '../../api/validation.js';
import { conflict, errors } from '../../errors.js';
import { isoMicro } from '../../lib/time.js';
import { PROJECT_MEMBER_OR_ADMIN } from '../../policy/base.js';
import type { PolicyDefault } from '../../policy/types.js';
import { computeTopic } from '../conductor.js';
import { casUpdate } from '../servers/repo.js';
import { obj } from '../servers/schema.js';
import { VmState } from '../states.js';
import { check, recordRequestAction } from './start.js';
import type { ActionDef } from './types.js';

/**
 * changePassword. Unlike most actions Nova waits for the host here (an RPC
 * call, not a cast): the 202 comes once the guest has the new password, and
 * a failure on the host is the client's 409. While it runs the server shows
 * status PASSWORD (task_state updating_password).
 */
const POLICY = 'os_compute_api:os-admin-password';

export const passwordPolicies: PolicyDefault[] = [
  {
    name: POLICY,
    check: PROJECT_MEMBER_OR_ADMIN,
    description: 'Change the administrative password for a server',
    operations: [{ method: 'POST', path: '/servers/{server_id}/action (changePassword)' }],
  },
];

/** The error name the host raises when it could not set the password (Nova's InstancePasswordSetFailed). */
export const PASSWORD_SET_FAILED = 'InstancePasswordSetFailed';

const TASK = 'updating_password';

export const passwordActions: ActionDef[] = [
  {
    key: 'changePassword',
    body: schemaFor({
      schema: obj({ changePassword: obj({ adminPass: Type.String() }, ['adminPass']) }, ['changePassword']),
    }),
    handler: async (deps, req, inst) => {
      const password = (req.body as { changePassword: { adminPass: string } }).changePassword.adminPass;
      check(deps, req, inst, {
        policy: POLICY,
        stateAction: 'changePassword',
        vmStates: [VmState.ACTIVE],
        // Nova's handler does not catch InstanceIsLocked apart from other invalid states.
        lockError: (uuid) => conflict(`Instance ${uuid} is in an invalid state for 'changePassword'`),
      });
      const host = inst.host;
      if (!host) throw errors.instanceNotReady(inst.uuid);
      const now = isoMicro(deps.clock.now());
      const updated = await casUpdate(deps.db, inst.uuid, [null], { task_state: TASK, updated_at: now });
      if (!updated) {
        const fresh = (await deps.db.selectFrom('instances').select('task_state').where('uuid', '=', inst.uuid).executeTakeFirst())?.task_state ?? null;
        throw errors.instanceInvalidState(inst.uuid, 'changePassword', 'task_state', fresh);
      }
      await recordRequestAction(deps, req, inst, 'changePassword', now);
      try {
        await deps.bus.call(computeTopic(host), 'set_admin_password', { uuid: inst.uuid, requestId: req.requestId, password });
      } catch (err) {
        if (err instanceof Error && err.name === PASSWORD_SET_FAILED) throw conflict(err.message);
        // The host never answered: do not leave the server in PASSWORD.
        await casUpdate(deps.db, inst.uuid, [TASK], { task_state: null, updated_at: isoMicro(deps.clock.now()) });
        throw err;
      }
      return { status: 202 };
    },
  },
];
