import { randomUUID } from 'node:crypto';
import type { ComputeRequest, Reply, RouteDef } from '../../api/route.js';
import { schemaFor } from '../../api/validation.js';
import { badRequest, forbidden, notFound } from '../../errors.js';
import { isoMicro } from '../../lib/time.js';
import type { ComputeDeps } from '../deps.js';
import { authorize, checkName, NON_NEGATIVE_INT, pyInt, qparam, querySchema, raw } from '../resources/common.js';
import { checkServerGroupQuota } from '../resources/quota.js';
import { touchInstance } from '../servers/repo.js';
import { SERVER_GROUP_POLICY } from './policies.js';
import { liveMembers, rulesOf, type ServerGroup } from './repo.js';

/**
 * os-server-groups: named groups of servers with a placement policy
 * (affinity, anti-affinity, and from 2.15 their soft variants). Servers
 * join a group at create (scheduler hint `group`) and leave it when deleted.
 */

const NAME = { type: 'string', minLength: 1, maxLength: 255 };
const policiesOf = (values: string[]) => ({ type: 'array', items: { type: 'string', enum: values }, uniqueItems: true, minItems: 1, maxItems: 1 });
const groupBody = (props: Record<string, unknown>, required: string[]) =>
  raw({
    type: 'object',
    properties: { server_group: { type: 'object', properties: props, required, additionalProperties: false } },
    required: ['server_group'],
    additionalProperties: false,
  });
const POSITIVE_INT = { type: ['integer', 'string'], pattern: '^[0-9]*$', minimum: 1, minLength: 1 };

const createBody = schemaFor(
  { max: '2.14', schema: groupBody({ name: NAME, policies: policiesOf(['anti-affinity', 'affinity']) }, ['name', 'policies']) },
  {
    min: '2.15',
    max: '2.63',
    schema: groupBody({ name: NAME, policies: policiesOf(['anti-affinity', 'affinity', 'soft-anti-affinity', 'soft-affinity']) }, ['name', 'policies']),
  },
  {
    min: '2.64',
    schema: groupBody(
      {
        name: NAME,
        policy: { type: 'string', enum: ['anti-affinity', 'affinity', 'soft-anti-affinity', 'soft-affinity'] },
        rules: { type: 'object', properties: { max_server_per_host: POSITIVE_INT }, additionalProperties: false },
      },
      ['name', 'policy'],
    ),
  },
);

const indexProps = { all_projects: qparam(), limit: qparam(NON_NEGATIVE_INT), offset: qparam(NON_NEGATIVE_INT) };
const indexQuery = schemaFor({ max: '2.74', schema: querySchema(indexProps, false) }, { min: '2.75', schema: querySchema(indexProps, true) });
const showQuery = schemaFor({ max: '2.101', schema: querySchema({}, false) }, { min: '2.102', schema: querySchema({}, true) });

const groupNotFound = (id: string) => notFound(`Instance group ${id} could not be found.`);

function view(req: ComputeRequest, g: ServerGroup, members: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = { id: g.uuid, name: g.name };
  if (req.mv.ge('2.64')) {
    out.policy = g.policy;
    out.rules = rulesOf(g);
  } else {
    out.policies = [g.policy];
    out.metadata = {};
  }
  out.members = members;
  if (req.mv.ge('2.13')) {
    out.project_id = g.project_id;
    out.user_id = g.user_id;
  }
  return out;
}

/** Nova's common.limited: offset, then limit capped at max_limit (0 or absent: max_limit). */
function limited<T>(items: T[], req: ComputeRequest, maxLimit: number): T[] {
  const num = (key: string): number => {
    const v = req.query[key];
    const last = Array.isArray(v) ? v[v.length - 1] : v;
    if (last === undefined) return 0;
    const n = pyInt(last);
    if (n === null) throw badRequest(`${key} param must be an integer`);
    if (n < 0) throw badRequest(`${key} param must be positive`);
    return n;
  };
  const offset = num('offset');
  const limit = Math.min(maxLimit, num('limit') || maxLimit);
  return items.slice(offset, offset + limit);
}

async function loadGroup(deps: ComputeDeps, id: string): Promise<ServerGroup> {
  const g = await deps.db.selectFrom('server_groups').selectAll().where('uuid', '=', id).executeTakeFirst();
  if (!g) throw groupNotFound(id);
  return g;
}

async function index(deps: ComputeDeps, req: ComputeRequest): Promise<Reply> {
  const projectId = req.ctx.projectId;
  authorize(deps, req, SERVER_GROUP_POLICY.index, { project_id: projectId });
  let q = deps.db.selectFrom('server_groups').selectAll().orderBy('id');
  if (req.query.all_projects !== undefined && req.ctx.isAdmin) {
    authorize(deps, req, SERVER_GROUP_POLICY.indexAllProjects, { project_id: projectId });
  } else {
    q = q.where('project_id', '=', projectId ?? '');
  }
  const page = limited(await q.execute(), req, deps.config.compute.max_limit);
  const members = await liveMembers(deps.db, page.map((g) => g.uuid));
  return { status: 200, body: { server_groups: page.map((g) => view(req, g, members.get(g.uuid) ?? [])) } };
}

async function show(deps: ComputeDeps, req: ComputeRequest): Promise<Reply> {
  const g = await loadGroup(deps, req.params.id ?? '');
  authorize(deps, req, SERVER_GROUP_POLICY.show, { project_id: g.project_id });
  const members = await liveMembers(deps.db, [g.uuid]);
  return { status: 200, body: { server_group: view(req, g, members.get(g.uuid) ?? []) } };
}

async function create(deps: ComputeDeps, req: ComputeRequest): Promise<Reply> {
  const projectId = req.ctx.projectId;
  authorize(deps, req, SERVER_GROUP_POLICY.create, { project_id: projectId });
  if (projectId === null) throw forbidden('A project-scoped token is required to create server groups.');
  await checkServerGroupQuota(deps.db, deps.config, projectId, req.ctx.userId);
  const vals = (req.body as { server_group: { name: string; policies?: string[]; policy?: string; rules?: { max_server_per_host?: number | string } } }).server_group;
  let policy: string;
  let rules: { max_server_per_host?: number } = {};
  if (req.mv.ge('2.64')) {
    policy = vals.policy ?? '';
    const given = vals.rules ?? {};
    if (policy !== 'anti-affinity' && Object.keys(given).length > 0) throw badRequest('Only anti-affinity policy supports rules.');
    if (given.max_server_per_host !== undefined) rules = { max_server_per_host: Number(given.max_server_per_host) };
  } else {
    policy = vals.policies?.[0] ?? '';
  }
  checkName(vals.name);
  const g: ServerGroup = {
    id: 0,
    uuid: randomUUID(),
    name: vals.name,
    project_id: projectId,
    user_id: req.ctx.userId,
    policy,
    rules: JSON.stringify(rules),
    created_at: isoMicro(deps.clock.now()),
  };
  const { id: _id, ...row } = g;
  await deps.db.insertInto('server_groups').values(row).execute();
  return { status: 200, body: { server_group: view(req, g, []) } };
}

async function remove(deps: ComputeDeps, req: ComputeRequest): Promise<Reply> {
  const g = await loadGroup(deps, req.params.id ?? '');
  authorize(deps, req, SERVER_GROUP_POLICY.delete, { project_id: g.project_id });
  const members = await deps.db.selectFrom('server_group_members').select('instance_uuid').where('group_uuid', '=', g.uuid).execute();
  await deps.db.deleteFrom('server_group_members').where('group_uuid', '=', g.uuid).execute();
  const res = await deps.db.deleteFrom('server_groups').where('uuid', '=', g.uuid).executeTakeFirst();
  // The members' bodies (2.71 server_groups) change: bump their revisions.
  for (const m of members) await touchInstance(deps.db, m.instance_uuid);
  if (Number(res.numDeletedRows) === 0) throw groupNotFound(g.uuid);
  return { status: 204 };
}

export function serverGroupRoutes(deps: ComputeDeps): RouteDef[] {
  return [
    { method: 'GET', path: '/os-server-groups', query: indexQuery, handler: (req) => index(deps, req) },
    { method: 'POST', path: '/os-server-groups', body: createBody, handler: (req) => create(deps, req) },
    { method: 'GET', path: '/os-server-groups/:id', query: showQuery, handler: (req) => show(deps, req) },
    { method: 'DELETE', path: '/os-server-groups/:id', handler: (req) => remove(deps, req) },
  ];
}
