import { schemaFor } from '../../api/validation.js';
import type { ComputeRequest, Reply, RouteDef } from '../../api/route.js';
import { badRequest } from '../../errors.js';
import type { ComputeDeps } from '../deps.js';
import { authorize, boolFromString, checkRange, firstParam, lastParam, objectBody, qparam, querySchema, raw } from './common.js';
import { BOOLEAN } from './flavors.schema.js';
import {
  countServerGroups,
  countInstances,
  isQuotaResource,
  QUOTA_RESOURCES,
  quotaDefaults,
  quotaLimits,
  storedLimits,
  type QuotaResource,
} from './quota.js';

export const QUOTA_SET_POLICY = {
  show: 'os_compute_api:os-quota-sets:show',
  detail: 'os_compute_api:os-quota-sets:detail',
  defaults: 'os_compute_api:os-quota-sets:defaults',
  update: 'os_compute_api:os-quota-sets:update',
  delete: 'os_compute_api:os-quota-sets:delete',
} as const;

const NETWORK: QuotaResource[] = ['fixed_ips', 'floating_ips', 'security_group_rules', 'security_groups'];
const PERSONALITY: QuotaResource[] = ['injected_files', 'injected_file_content_bytes', 'injected_file_path_bytes'];

/** Resources hidden at a microversion: network ones from 2.36, personality ones from 2.57. */
function filteredAt(req: ComputeRequest): QuotaResource[] {
  if (req.mv.ge('2.57')) return [...NETWORK, ...PERSONALITY];
  if (req.mv.ge('2.36')) return NETWORK;
  return [];
}

const QUOTA_VALUE = { type: ['integer', 'string'], pattern: '^-?[0-9]+$', minimum: -1, maximum: 0x7fffffff };

function updateSchema(hidden: QuotaResource[]) {
  const props: Record<string, unknown> = {};
  for (const r of QUOTA_RESOURCES) if (!hidden.includes(r)) props[r] = QUOTA_VALUE;
  props.force = BOOLEAN;
  return raw({
    type: 'object',
    properties: { quota_set: { type: 'object', properties: props, additionalProperties: false } },
    required: ['quota_set'],
    additionalProperties: false,
  });
}

const updateBody = schemaFor(
  { max: '2.35', schema: updateSchema([]) },
  { min: '2.36', max: '2.56', schema: updateSchema(NETWORK) },
  { min: '2.57', schema: updateSchema([...NETWORK, ...PERSONALITY]) },
);

const userQuery = schemaFor(
  { max: '2.74', schema: querySchema({ user_id: qparam() }, false) },
  { min: '2.75', schema: querySchema({ user_id: qparam() }, true) },
);

const defaultsQuery = schemaFor({ schema: querySchema({}, false) });

function format<T>(projectId: string | null, values: Record<QuotaResource, T>, hidden: QuotaResource[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (projectId !== null) out.id = projectId;
  for (const r of QUOTA_RESOURCES) if (!hidden.includes(r)) out[r] = values[r];
  return { quota_set: out };
}

/** In-use counts as the quota-set API shows them: key pairs and group members always 0, as in Nova. */
async function inUse(deps: ComputeDeps, projectId: string, userId?: string): Promise<Record<QuotaResource, number>> {
  const counts = await countInstances(deps.db, projectId, userId);
  const c = counts.user ?? counts.project;
  const out = Object.fromEntries(QUOTA_RESOURCES.map((r) => [r, 0])) as Record<QuotaResource, number>;
  out.instances = c.instances;
  out.cores = c.cores;
  out.ram = c.ram;
  out.server_groups = await countServerGroups(deps.db, projectId, userId);
  return out;
}

const isUnlimited = (v: number) => v <= -1;
const sub = (a: number, b: number) => (isUnlimited(a) || isUnlimited(b) ? -1 : a - b);
const add = (a: number, b: number) => (isUnlimited(a) || isUnlimited(b) ? -1 : a + b);

/** Nova's get_settable_quotas: per resource, the range a new limit must fall in. */
async function settable(
  deps: ComputeDeps,
  projectId: string,
  userId: string | undefined,
): Promise<Record<QuotaResource, { minimum: number; maximum: number }>> {
  const projectLimits = await quotaLimits(deps.db, deps.config, projectId);
  const userRows = await deps.db
    .selectFrom('quotas')
    .select(['resource', 'hard_limit'])
    .where('project_id', '=', projectId)
    .where('user_id', '!=', '')
    .execute();
  const remains = { ...projectLimits };
  for (const row of userRows) if (isQuotaResource(row.resource)) remains[row.resource] -= row.hard_limit;
  const out = {} as Record<QuotaResource, { minimum: number; maximum: number }>;
  if (userId !== undefined) {
    const own = await storedLimits(deps.db, projectId, userId);
    const used = await inUse(deps, projectId, userId);
    for (const r of QUOTA_RESOURCES) out[r] = { minimum: used[r], maximum: add(remains[r], own[r] ?? 0) };
  } else {
    const used = await inUse(deps, projectId);
    for (const r of QUOTA_RESOURCES) out[r] = { minimum: Math.max(sub(projectLimits[r], remains[r]), used[r]), maximum: -1 };
  }
  return out;
}

function checkLimit(resource: string, limit: number, minimum: number, maximum: number): void {
  const inf = (v: number) => (v === -1 ? Number.POSITIVE_INFINITY : v);
  if (inf(limit) < inf(minimum)) {
    throw badRequest(`Quota limit ${limit} for ${resource} must be greater than or equal to already used and reserved ${minimum}.`);
  }
  if (inf(limit) > inf(maximum)) {
    throw badRequest(`Quota limit ${limit} for ${resource} must be less than or equal to ${maximum}.`);
  }
}

const optionalUser = (v: string | undefined): string | undefined => (v === undefined || v === '' ? undefined : v);

async function updateQuotas(deps: ComputeDeps, req: ComputeRequest): Promise<Reply> {
  const projectId = req.params.id ?? '';
  authorize(deps, req, QUOTA_SET_POLICY.update, { project_id: projectId });
  const userId = optionalUser(firstParam(req.query, 'user_id'));
  const quotaSet = (objectBody(req.body).quota_set ?? {}) as Record<string, unknown>;
  const force = boolFromString(quotaSet.force ?? 'False');
  const ranges = await settable(deps, projectId, userId);
  const valid: [QuotaResource, number][] = [];
  for (const [key, value] of Object.entries(quotaSet)) {
    if (key === 'force' || !isQuotaResource(key) || value === null || value === undefined || value === '') continue;
    checkRange(key, value, -1, 0x7fffffff);
    const limit = Number(value);
    if (!force) checkLimit(key, limit, ranges[key].minimum, ranges[key].maximum);
    valid.push([key, limit]);
  }
  await deps.db.transaction().execute(async (tx) => {
    for (const [resource, limit] of valid) {
      await tx
        .insertInto('quotas')
        .values({ project_id: projectId, user_id: userId ?? '', resource, hard_limit: limit })
        .onConflict((oc) => oc.columns(['project_id', 'user_id', 'resource']).doUpdateSet({ hard_limit: limit }))
        .execute();
    }
  });
  const limits = await quotaLimits(deps.db, deps.config, projectId, userId);
  return { status: 200, body: format(null, limits, filteredAt(req)) };
}

/** os-quota-sets: show, detail, defaults, update, delete. */
export function quotaSetRoutes(deps: ComputeDeps): RouteDef[] {
  return [
    {
      method: 'GET',
      path: '/os-quota-sets/:id',
      query: userQuery,
      handler: async (req) => {
        const projectId = req.params.id ?? '';
        authorize(deps, req, QUOTA_SET_POLICY.show, { project_id: projectId });
        const userId = optionalUser(firstParam(req.query, 'user_id'));
        const limits = await quotaLimits(deps.db, deps.config, projectId, userId);
        return { status: 200, body: format(projectId, limits, filteredAt(req)) };
      },
    },
    {
      method: 'GET',
      path: '/os-quota-sets/:id/detail',
      query: userQuery,
      handler: async (req) => {
        const projectId = req.params.id ?? '';
        authorize(deps, req, QUOTA_SET_POLICY.detail, { project_id: projectId });
        const userId = optionalUser(lastParam(req.query, 'user_id'));
        const limits = await quotaLimits(deps.db, deps.config, projectId, userId);
        const used = await inUse(deps, projectId, userId);
        const detail = Object.fromEntries(
          QUOTA_RESOURCES.map((r) => [r, { in_use: used[r], limit: limits[r], reserved: 0 }]),
        ) as Record<QuotaResource, { in_use: number; limit: number; reserved: number }>;
        return { status: 200, body: format(projectId, detail, filteredAt(req)) };
      },
    },
    {
      method: 'GET',
      path: '/os-quota-sets/:id/defaults',
      query: defaultsQuery,
      handler: (req) => {
        const projectId = req.params.id ?? '';
        authorize(deps, req, QUOTA_SET_POLICY.defaults, { project_id: projectId });
        return { status: 200, body: format(projectId, quotaDefaults(deps.config), filteredAt(req)) };
      },
    },
    { method: 'PUT', path: '/os-quota-sets/:id', query: userQuery, body: updateBody, handler: (req) => updateQuotas(deps, req) },
    {
      method: 'DELETE',
      path: '/os-quota-sets/:id',
      query: userQuery,
      handler: async (req) => {
        const projectId = req.params.id ?? '';
        authorize(deps, req, QUOTA_SET_POLICY.delete, { project_id: projectId });
        const userId = optionalUser(firstParam(req.query, 'user_id'));
        let q = deps.db.deleteFrom('quotas').where('project_id', '=', projectId);
        if (userId !== undefined) q = q.where('user_id', '=', userId);
        await q.execute();
        return { status: 202 };
      },
    },
  ];
}
