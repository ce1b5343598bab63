import type { ComputeRequest, Reply, RouteDef } from '../../api/route.js';
import { schemaFor } from '../../api/validation.js';
import { badRequest, forbidden, notFound } from '../../errors.js';
import { NetworkError, UUID_LIKE } from '../../network/model.js';
import type { SecurityGroupRow } from '../tables.js';
import { SG_POLICY } from '../actions/security-groups.js';
import type { ComputeDeps } from '../deps.js';
import { authorize, hasParam, NON_NEGATIVE_INT, pyInt, qparam, querySchema, raw } from '../resources/common.js';
import { loadServer, targetOf } from '../servers/common.js';

/** The proxy to the network service's security groups (deprecated: up to 2.35). */
const MAX_PROXY = '2.35';

export function securityGroupView(sg: SecurityGroupRow): Record<string, unknown> {
  return { id: sg.id, description: sg.description, name: sg.name, tenant_id: sg.project_id, rules: [] };
}

const byTenantThenName = (a: Record<string, unknown>, b: Record<string, unknown>): number =>
  String(a.tenant_id).localeCompare(String(b.tenant_id)) || String(a.name).localeCompare(String(b.name));

const sgBody = schemaFor({
  schema: raw({
    type: 'object',
    properties: {
      security_group: {
        type: 'object',
        properties: {
          name: { type: 'string', minLength: 0, maxLength: 255 },
          description: { type: 'string', minLength: 0, maxLength: 255 },
        },
        required: ['name', 'description'],
        additionalProperties: true,
      },
    },
    required: ['security_group'],
    additionalProperties: true,
  }),
});

const indexQuery = schemaFor({
  schema: querySchema({ limit: qparam(NON_NEGATIVE_INT), offset: qparam(NON_NEGATIVE_INT), all_tenants: qparam() }, false),
});

const serverIndexQuery = schemaFor({ max: '2.101', schema: querySchema({}, false) }, { min: '2.102', schema: querySchema({}, true) });

/** Nova's common.limited: offset, then limit capped at max_limit (0 means max_limit). */
function limited<T>(items: T[], req: ComputeRequest, maxLimit: number): T[] {
  const num = (key: string): number => {
    const raw = req.query[key];
    const v = Array.isArray(raw) ? raw[raw.length - 1] : raw;
    if (v === undefined) return 0;
    const n = pyInt(v);
    if (n === null) throw badRequest(`${key} must be an integer`);
    if (n < 0) throw badRequest(`${key} must be >= 0`);
    return n;
  };
  const offset = num('offset');
  const limit = Math.min(maxLimit, num('limit') || maxLimit);
  return items.slice(offset, offset + limit);
}

async function getGroup(deps: ComputeDeps, req: ComputeRequest, id: string): Promise<SecurityGroupRow> {
  if (!UUID_LIKE.test(id)) throw badRequest('Security group id should be uuid');
  const sg = await deps.network.securityGroupById(id, req.ctx.isAdmin ? null : (req.ctx.projectId ?? ''));
  if (!sg) throw notFound(`Security group ${id} does not exist`);
  return sg;
}

function asApiError(err: unknown, forCreate = false): unknown {
  if (!(err instanceof NetworkError)) return err;
  if (forCreate && err.kind === 'sg-default') return forbidden(err.message);
  return badRequest(err.message);
}

async function listGroups(deps: ComputeDeps, req: ComputeRequest): Promise<Reply> {
  authorize(deps, req, SG_POLICY.get, { project_id: req.ctx.projectId });
  const all = req.ctx.isAdmin && hasParam(req.query, 'all_tenants');
  const rows = await deps.network.listSecurityGroups(all ? null : (req.ctx.projectId ?? ''), req.ctx.projectId);
  const page = limited(rows, req, deps.config.compute.max_limit).map(securityGroupView);
  return { status: 200, body: { security_groups: page.sort(byTenantThenName) } };
}

async function createGroup(deps: ComputeDeps, req: ComputeRequest): Promise<Reply> {
  authorize(deps, req, SG_POLICY.create, { project_id: req.ctx.projectId });
  const body = (req.body as { security_group: { name: string; description: string } }).security_group;
  try {
    const sg = await deps.network.createSecurityGroup(req.ctx.projectId ?? '', body.name, body.description);
    return { status: 200, body: { security_group: securityGroupView(sg) } };
  } catch (err) {
    throw asApiError(err, true);
  }
}

async function showGroup(deps: ComputeDeps, req: ComputeRequest): Promise<Reply> {
  authorize(deps, req, SG_POLICY.show, { project_id: req.ctx.projectId });
  const sg = await getGroup(deps, req, req.params.id ?? '');
  return { status: 200, body: { security_group: securityGroupView(sg) } };
}

async function updateGroup(deps: ComputeDeps, req: ComputeRequest): Promise<Reply> {
  authorize(deps, req, SG_POLICY.update, { project_id: req.ctx.projectId });
  const sg = await getGroup(deps, req, req.params.id ?? '');
  const body = (req.body as { security_group: { name: string; description: string } }).security_group;
  try {
    return { status: 200, body: { security_group: securityGroupView(await deps.network.updateSecurityGroup(sg, body.name, body.description)) } };
  } catch (err) {
    throw asApiError(err);
  }
}

async function deleteGroup(deps: ComputeDeps, req: ComputeRequest): Promise<Reply> {
  authorize(deps, req, SG_POLICY.delete, { project_id: req.ctx.projectId });
  const sg = await getGroup(deps, req, req.params.id ?? '');
  try {
    await deps.network.deleteSecurityGroup(sg);
  } catch (err) {
    throw asApiError(err);
  }
  return { status: 202 };
}

/** GET /servers/{id}/os-security-groups: the groups the server's ports are in. */
async function serverGroups(deps: ComputeDeps, req: ComputeRequest): Promise<Reply> {
  const inst = await loadServer(deps, req, req.params.server_id ?? '');
  authorize(deps, req, SG_POLICY.list, { project_id: targetOf(inst).project_id });
  const ports = await deps.network.portsOf(inst.uuid);
  const out: Record<string, unknown>[] = [];
  if (ports.length > 0) {
    const rows = await deps.network.listSecurityGroups(null, null);
    const seen = new Set<string>();
    for (const name of JSON.parse(inst.security_groups) as string[]) {
      const sg = rows.find((r) => r.id === name) ?? rows.find((r) => r.project_id === inst.project_id && r.name === name);
      if (sg && !seen.has(sg.id)) {
        seen.add(sg.id);
        out.push(securityGroupView(sg));
      }
    }
  }
  return { status: 200, body: { security_groups: out.sort(byTenantThenName) } };
}

export function securityGroupRoutes(deps: ComputeDeps): RouteDef[] {
  return [
    { method: 'GET', path: '/os-security-groups', max: MAX_PROXY, query: indexQuery, handler: (r) => listGroups(deps, r) },
    { method: 'POST', path: '/os-security-groups', max: MAX_PROXY, body: sgBody, handler: (r) => createGroup(deps, r) },
    { method: 'GET', path: '/os-security-groups/:id', max: MAX_PROXY, handler: (r) => showGroup(deps, r) },
    { method: 'PUT', path: '/os-security-groups/:id', max: MAX_PROXY, body: sgBody, handler: (r) => updateGroup(deps, r) },
    { method: 'DELETE', path: '/os-security-groups/:id', max: MAX_PROXY, handler: (r) => deleteGroup(deps, r) },
    { method: 'GET', path: '/servers/:server_id/os-security-groups', query: serverIndexQuery, handler: (r) => serverGroups(deps, r) },
  ];
}
