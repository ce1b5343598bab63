import { isIP } from 'node:net';
import { pyRepr, schemaFor } from '../../api/validation.js';
import type { ComputeRequest } from '../../api/route.js';
import { badRequest, conflict, notFound } from '../../errors.js';
import { NetworkError } from '../../network/model.js';
import { ANYONE, PROJECT_MEMBER_OR_ADMIN, PROJECT_READER_OR_ADMIN, policyRule } from '../../policy/base.js';
import type { PolicyDefault } from '../../policy/types.js';
import type { ComputeDeps } from '../deps.js';
import { raw } from '../resources/common.js';
import { authorize } from '../servers/common.js';
import { findInstance, type Instance } from '../servers/repo.js';
import type { ActionDef } from './types.js';

/**
 * addFloatingIp / removeFloatingIp (deprecated: up to 2.43): binds a
 * floating IP the project holds to one of the server's fixed addresses, or
 * unbinds it. Synchronous in the network model, as Nova's calls to Neutron
 * are; not lock- or state-checked; no instance action.
 */
export const FIP_POLICY = {
  add: 'os_compute_api:os-floating-ips:add',
  remove: 'os_compute_api:os-floating-ips:remove',
  list: 'os_compute_api:os-floating-ips:list',
  create: 'os_compute_api:os-floating-ips:create',
  show: 'os_compute_api:os-floating-ips:show',
  delete: 'os_compute_api:os-floating-ips:delete',
  pools: 'os_compute_api:os-floating-ip-pools',
} as const;

export const floatingIpsPolicies: PolicyDefault[] = [
  policyRule(FIP_POLICY.add, PROJECT_MEMBER_OR_ADMIN, 'Associate floating IPs to server. This API is deprecated.', 'POST', '/servers/{server_id}/action (addFloatingIp)'),
  policyRule(FIP_POLICY.remove, PROJECT_MEMBER_OR_ADMIN, 'Disassociate floating IPs to server. This API is deprecated.', 'POST', '/servers/{server_id}/action (removeFloatingIp)'),
  policyRule(FIP_POLICY.list, PROJECT_READER_OR_ADMIN, 'List floating IPs. This API is deprecated.', 'GET', '/os-floating-ips'),
  policyRule(FIP_POLICY.create, PROJECT_MEMBER_OR_ADMIN, 'Create floating IPs. This API is deprecated.', 'POST', '/os-floating-ips'),
  policyRule(FIP_POLICY.show, PROJECT_READER_OR_ADMIN, 'Show floating IPs. This API is deprecated.', 'GET', '/os-floating-ips/{floating_ip_id}'),
  policyRule(FIP_POLICY.delete, PROJECT_MEMBER_OR_ADMIN, 'Delete floating IPs. This API is deprecated.', 'DELETE', '/os-floating-ips/{floating_ip_id}'),
  policyRule(FIP_POLICY.pools, ANYONE, 'List floating IP pools. This API is deprecated.', 'GET', '/os-floating-ip-pools'),
];

/** Nova's parameter_types.ip_address; the format is checked by checkIp (for jsonschema's oneOf wording). */
export const IP_ADDRESS = { type: 'string' };

/** An IPv4 or IPv6 address, or Nova's 400 for the field. */
export function checkIp(field: string, value: string | undefined): void {
  if (value === undefined || isIP(value) !== 0) return;
  throw badRequest(`Invalid input for field/attribute ${field}. Value: ${value}. ${pyRepr(value)} is not valid under any of the given schemas`);
}

const addBody = schemaFor({
  schema: raw({
    type: 'object',
    properties: {
      addFloatingIp: {
        type: 'object',
        properties: { address: IP_ADDRESS, fixed_address: IP_ADDRESS },
        required: ['address'],
        additionalProperties: false,
      },
    },
    required: ['addFloatingIp'],
    additionalProperties: false,
  }),
});

const removeBody = schemaFor({
  schema: raw({
    type: 'object',
    properties: {
      removeFloatingIp: {
        type: 'object',
        properties: { address: IP_ADDRESS },
        required: ['address'],
        additionalProperties: false,
      },
    },
    required: ['removeFloatingIp'],
    additionalProperties: false,
  }),
});

/** Whose floating IPs the caller sees: their project's, or any for admins. */
const scopeOf = (req: ComputeRequest): string | null => (req.ctx.isAdmin ? null : (req.ctx.projectId ?? ''));

async function addFloatingIp(deps: ComputeDeps, req: ComputeRequest, inst: Instance): Promise<void> {
  const body = (req.body as { addFloatingIp: { address: string; fixed_address?: string } }).addFloatingIp;
  const address = body.address;
  checkIp('address', address);
  checkIp('fixed_address', body.fixed_address);
  authorize(deps, req, FIP_POLICY.add, { project_id: inst.project_id });
  const ports = await deps.network.portsOf(inst.uuid);
  if (ports.length === 0) throw badRequest('Instance network is not ready yet');
  const fixed = ports.flatMap((p) => p.fixedIps.map((ip) => ({ ip, port: p })));
  if (fixed.length === 0) throw badRequest('No fixed IPs associated to instance');
  let target: (typeof fixed)[number] | undefined;
  if (body.fixed_address !== undefined) {
    target = fixed.find((f) => f.ip === body.fixed_address);
    if (!target) throw badRequest('Specified fixed address not assigned to instance');
  } else {
    target = fixed.find((f) => f.ip.includes('.'));
    if (!target) {
      throw badRequest(
        `Unable to associate floating IP ${address} to any fixed IPs for instance ${inst.uuid}. Instance has no fixed IPv4 addresses to associate.`,
      );
    }
  }
  const fip = await deps.network.floatingIpByAddress(address, scopeOf(req));
  if (!fip) throw notFound('floating IP not found');
  try {
    await deps.network.associateFloatingIp(fip, inst.uuid, target.port, target.ip);
  } catch (err) {
    if (err instanceof NetworkError) throw badRequest(err.message);
    throw err;
  }
}

async function removeFloatingIp(deps: ComputeDeps, req: ComputeRequest, inst: Instance): Promise<void> {
  const address = (req.body as { removeFloatingIp: { address: string } }).removeFloatingIp.address;
  checkIp('address', address);
  const fip = await deps.network.floatingIpByAddress(address, scopeOf(req));
  if (!fip) throw notFound(`Floating IP not found for address ${address}.`);
  // The server the address is bound to, looked up as the caller may see it.
  let bound: Instance | undefined;
  if (fip.instance_uuid) {
    bound = await findInstance(deps.db, fip.instance_uuid, { projectId: req.ctx.isAdmin ? null : (req.ctx.projectId ?? '') });
    if (!bound) throw notFound(`Instance ${fip.instance_uuid} could not be found.`);
  }
  authorize(deps, req, FIP_POLICY.remove, bound ? { project_id: bound.project_id } : {});
  if (bound && fip.port_id && bound.uuid === inst.uuid) {
    await deps.network.disassociateFloatingIp(fip);
    return;
  }
  throw conflict(`Floating IP ${address} is not associated with instance ${inst.uuid}.`);
}

export const floatingIpsActions: ActionDef[] = [
  {
    key: 'addFloatingIp',
    max: '2.43',
    body: addBody,
    handler: async (deps, req, inst) => {
      await addFloatingIp(deps, req, inst);
      return { status: 202 };
    },
  },
  {
    key: 'removeFloatingIp',
    max: '2.43',
    body: removeBody,
    handler: async (deps, req, inst) => {
      await removeFloatingIp(deps, req, inst);
      return { status: 202 };
    },
  },
];
