import { schemaFor } from '../../api/validation.js';
import type { ComputeRequest } from '../../api/route.js';
import { errors } from '../../errors.js';
import { PROJECT_MEMBER_OR_ADMIN } from '../../policy/base.js';
import type { PolicyDefault } from '../../policy/types.js';
import { computeTopic } from '../conductor.js';
import type { ComputeDeps } from '../deps.js';
import { raw } from '../resources/common.js';
import { authorize, requireUnlocked } from '../servers/common.js';
import type { Instance } from '../servers/repo.js';
import { checkIp, IP_ADDRESS } from './floating-ips.js';
import type { ActionDef } from './types.js';

/**
 * addFixedIp / removeFixedIp (os-multinic, deprecated: up to 2.43): cast to
 * the server's host, which changes its ports through the network model and
 * pushes the new configuration into the guest. Lock-checked (Nova's
 * check_instance_lock), no state rule, no task_state, no instance action;
 * failures surface only as instance faults, as in Nova.
 */
export const MULTINIC_POLICY = {
  add: 'os_compute_api:os-multinic:add',
  remove: 'os_compute_api:os-multinic:remove',
} as const;

export const fixedIpsPolicies: PolicyDefault[] = [
  {
    name: MULTINIC_POLICY.add,
    check: PROJECT_MEMBER_OR_ADMIN,
    description: 'Add a fixed IP address to a server. This API is deprecated.',
    operations: [{ method: 'POST', path: '/servers/{server_id}/action (addFixedIp)' }],
  },
  {
    name: MULTINIC_POLICY.remove,
    check: PROJECT_MEMBER_OR_ADMIN,
    description: 'Remove a fixed IP address from a server. This API is deprecated.',
    operations: [{ method: 'POST', path: '/servers/{server_id}/action (removeFixedIp)' }],
  },
];

const addBody = schemaFor({
  schema: raw({
    type: 'object',
    properties: {
      addFixedIp: {
        type: 'object',
        properties: { networkId: { type: ['string', 'number'], minLength: 1, maxLength: 36 } },
        required: ['networkId'],
        additionalProperties: false,
      },
    },
    required: ['addFixedIp'],
    additionalProperties: false,
  }),
});

const removeBody = schemaFor({
  schema: raw({
    type: 'object',
    properties: {
      removeFixedIp: {
        type: 'object',
        properties: { address: IP_ADDRESS },
        required: ['address'],
        additionalProperties: false,
      },
    },
    required: ['removeFixedIp'],
    additionalProperties: false,
  }),
});

function castToHost(deps: ComputeDeps, req: ComputeRequest, inst: Instance, method: string, args: Record<string, unknown>): void {
  requireUnlocked(req, inst);
  if (!inst.host) throw errors.instanceNotReady(inst.uuid);
  deps.bus.cast(computeTopic(inst.host), method, { uuid: inst.uuid, requestId: req.requestId, ...args });
}

export const fixedIpsActions: ActionDef[] = [
  {
    key: 'addFixedIp',
    max: '2.43',
    body: addBody,
    handler: (deps, req, inst) => {
      authorize(deps, req, MULTINIC_POLICY.add, { project_id: inst.project_id });
      const networkId = String((req.body as { addFixedIp: { networkId: string | number } }).addFixedIp.networkId);
      castToHost(deps, req, inst, 'add_fixed_ip_to_instance', { networkId });
      return Promise.resolve({ status: 202 });
    },
  },
  {
    key: 'removeFixedIp',
    max: '2.43',
    body: removeBody,
    handler: (deps, req, inst) => {
      const address = (req.body as { removeFixedIp: { address: string } }).removeFixedIp.address;
      checkIp('address', address);
      authorize(deps, req, MULTINIC_POLICY.remove, { project_id: inst.project_id });
      castToHost(deps, req, inst, 'remove_fixed_ip_from_instance', { address });
      return Promise.resolve({ status: 202 });
    },
  },
];
