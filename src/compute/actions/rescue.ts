import { Type } from '@sinclair/typebox';
import { schemaFor } from '../../api/validation.js';
import { badRequest } from '../../errors.js';
import { PROJECT_MEMBER_OR_ADMIN } from '../../policy/base.js';
import type { PolicyDefault } from '../../policy/types.js';
import { generatePassword } from '../servers/create.js';
import { obj, P } from '../servers/schema.js';
import { VmState } from '../states.js';
import { begin, castToHost, check } from './start.js';
import { startAction } from './start.js';
import type { ActionDef } from './types.js';

/**
 * rescue boots the server from a rescue image (its own image unless
 * `rescue_image_ref` names another) with its disk attached, and answers
 * 200 with the rescue password; unrescue returns it to its own disk.
 */
const POLICY = {
  rescue: 'os_compute_api:os-rescue',
  unrescue: 'os_compute_api:os-unrescue',
};

export const rescuePolicies: PolicyDefault[] = [
  { name: POLICY.rescue, check: PROJECT_MEMBER_OR_ADMIN, description: 'Rescue a server', operations: [{ method: 'POST', path: '/servers/{server_id}/action (rescue)' }] },
  { name: POLICY.unrescue, check: PROJECT_MEMBER_OR_ADMIN, description: 'Unrescue a server', operations: [{ method: 'POST', path: '/servers/{server_id}/action (unrescue)' }] },
];

const rescueBody = schemaFor({
  schema: obj({ rescue: Type.Union([Type.Null(), obj({ adminPass: Type.String(), rescue_image_ref: P.uuid })]) }, ['rescue']),
});

export const rescueActions: ActionDef[] = [
  {
    key: 'rescue',
    body: rescueBody,
    handler: async (deps, req, inst) => {
      const r = (req.body as { rescue: { adminPass?: string; rescue_image_ref?: string } | null }).rescue;
      const password = r?.adminPass ?? generatePassword();
      check(deps, req, inst, {
        policy: POLICY.rescue,
        target: 'owner',
        stateAction: 'rescue',
        vmStates: [VmState.ACTIVE, VmState.STOPPED, VmState.ERROR],
      });
      const imageRef = r?.rescue_image_ref;
      if (imageRef !== undefined && !(await deps.images.get(imageRef, req.ctx.projectId, req.ctx.isAdmin))) {
        throw badRequest(`Requested rescue image '${imageRef}' is not supported`);
      }
      const updated = await begin(deps, req, inst, { stateAction: 'rescue', action: 'rescue', values: { task_state: 'rescuing' } });
      castToHost(deps, req, updated, 'rescue_instance', { adminPass: password, rescueImageRef: imageRef ?? null });
      // 200, not 202, for compatibility (Nova keeps it so).
      return { status: 200, body: { adminPass: password } };
    },
  },
  {
    key: 'unrescue',
    body: schemaFor({ schema: obj({ unrescue: Type.Unknown() }, ['unrescue']) }),
    handler: async (deps, req, inst) => {
      await startAction(deps, req, inst, {
        policy: POLICY.unrescue,
        stateAction: 'unrescue',
        action: 'unrescue',
        vmStates: [VmState.RESCUED],
        taskState: 'unrescuing',
        method: 'unrescue_instance',
      });
      return { status: 202 };
    },
  },
];
