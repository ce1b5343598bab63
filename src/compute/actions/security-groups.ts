import { schemaFor } from '../../api/validation.js';
import type { ComputeRequest } from '../../api/route.js';
import { ApiError, badRequest, conflict, notFound } from '../../errors.js';
import { NetworkError } from '../../network/model.js';
import { PROJECT_MEMBER_OR_ADMIN, PROJECT_READER_OR_ADMIN, policyRule } from '../../policy/base.js';
import type { PolicyDefault } from '../../policy/types.js';
import type { ComputeDeps } from '../deps.js';
import { raw } from '../resources/common.js';
import { authorize, targetOf } from '../servers/common.js';
import type { Instance } from '../servers/repo.js';
import type { ActionDef } from './types.js';

/**
 * addSecurityGroup / removeSecurityGroup: a server joins or leaves a
 * security group of the built-in network model, named by name or id (as
 * Neutron's find-by-name-or-id resolves it). Neither is lock- or
 * state-checked, no instance action is recorded; 202 without a body.
 */
export const SG_POLICY = {
  get: 'os_compute_api:os-security-groups:get',
  show: 'os_compute_api:os-security-groups:show',
  create: 'os_compute_api:os-security-groups:create',
  update: 'os_compute_api:os-security-groups:update',
  delete: 'os_compute_api:os-security-groups:delete',
  ruleCreate: 'os_compute_api:os-security-groups:rule:create',
  ruleDelete: 'os_compute_api:os-security-groups:rule:delete',
  list: 'os_compute_api:os-security-groups:list',
  add: 'os_compute_api:os-security-groups:add',
  remove: 'os_compute_api:os-security-groups:remove',
} as const;

export const securityGroupsPolicies: PolicyDefault[] = [
  policyRule(SG_POLICY.get, PROJECT_READER_OR_ADMIN, 'List security groups. This API is deprecated.', 'GET', '/os-security-groups'),
  policyRule(SG_POLICY.show, PROJECT_READER_OR_ADMIN, 'Show security group. This API is deprecated.', 'GET', '/os-security-groups/{security_group_id}'),
  policyRule(SG_POLICY.create, PROJECT_MEMBER_OR_ADMIN, 'Create security group. This API is deprecated.', 'POST', '/os-security-groups'),
  policyRule(SG_POLICY.update, PROJECT_MEMBER_OR_ADMIN, 'Update security group. This API is deprecated.', 'PUT', '/os-security-groups/{security_group_id}'),
  policyRule(SG_POLICY.delete, PROJECT_MEMBER_OR_ADMIN, 'Delete security group. This API is deprecated.', 'DELETE', '/os-security-groups/{security_group_id}'),
  policyRule(SG_POLICY.ruleCreate, PROJECT_MEMBER_OR_ADMIN, 'Create security group Rule. This API is deprecated.', 'POST', '/os-security-group-rules'),
  policyRule(SG_POLICY.ruleDelete, PROJECT_MEMBER_OR_ADMIN, 'Delete security group Rule. This API is deprecated.', 'DELETE', '/os-security-group-rules/{security_group_id}'),
  policyRule(SG_POLICY.list, PROJECT_READER_OR_ADMIN, 'List security groups of server.', 'GET', '/servers/{server_id}/os-security-groups'),
  policyRule(SG_POLICY.add, PROJECT_MEMBER_OR_ADMIN, 'Add security groups to server.', 'POST', '/servers/{server_id}/action (addSecurityGroup)'),
  policyRule(SG_POLICY.remove, PROJECT_MEMBER_OR_ADMIN, 'Remove security groups from server.', 'POST', '/servers/{server_id}/action (removeSecurityGroup)'),
];

function bodySchema(key: string) {
  return schemaFor({
    schema: raw({
      type: 'object',
      properties: {
        [key]: {
          type: 'object',
          properties: { name: { type: 'string', minLength: 1 } },
          required: ['name'],
          additionalProperties: false,
        },
      },
      required: [key],
      additionalProperties: true,
    }),
  });
}

/** Nova's _parse: the group name, which must not be blank. */
function groupName(req: ComputeRequest, key: string): string {
  const inner = (req.body as Record<string, { name: string }>)[key];
  const name = inner?.name ?? '';
  if (name.trim() === '') throw badRequest('Security group name cannot be empty');
  return name;
}

/** Maps a network-model failure to what Nova's security group action answers. */
function asApiError(err: unknown, name: string, projectId: string | null): unknown {
  if (!(err instanceof NetworkError)) return err;
  switch (err.kind) {
    case 'sg-not-found':
      return notFound(`Security group ${name} is not found for project ${projectId ?? 'None'}`);
    case 'sg-no-unique-match':
      return conflict(err.message);
    case 'sg-not-associated':
    case 'no-ports':
      return notFound(err.message);
    case 'sg-duplicate-on-port':
      return badRequest(err.message);
    default:
      return new ApiError(400, err.message);
  }
}

async function change(deps: ComputeDeps, req: ComputeRequest, inst: Instance, key: 'addSecurityGroup' | 'removeSecurityGroup'): Promise<void> {
  authorize(deps, req, key === 'addSecurityGroup' ? SG_POLICY.add : SG_POLICY.remove, { project_id: targetOf(inst).project_id });
  const name = groupName(req, key);
  const caller = req.ctx.projectId ?? inst.project_id;
  try {
    const sg = await deps.network.findSecurityGroup(caller, name, req.ctx.isAdmin);
    if (key === 'addSecurityGroup') await deps.network.addSecurityGroupToServer(inst, sg);
    else await deps.network.removeSecurityGroupFromServer(inst, sg, name);
  } catch (err) {
    throw asApiError(err, name, req.ctx.projectId);
  }
}

export const securityGroupsActions: ActionDef[] = [
  {
    key: 'addSecurityGroup',
    body: bodySchema('addSecurityGroup'),
    handler: async (deps, req, inst) => {
      await change(deps, req, inst, 'addSecurityGroup');
      return { status: 202 };
    },
  },
  {
    key: 'removeSecurityGroup',
    body: bodySchema('removeSecurityGroup'),
    handler: async (deps, req, inst) => {
      await change(deps, req, inst, 'removeSecurityGroup');
      return { status: 202 };
    },
  },
];
