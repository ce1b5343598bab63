import { schemaFor } from '../../api/validation.js';
import type { ComputeRequest, Reply, RouteDef } from '../../api/route.js';
import type { ComputeDeps } from '../deps.js';
import { authorize, defaultTarget, hasParam, lastParam, qparam, querySchema } from './common.js';
import { countInstances, countServerGroups, quotaLimits, type QuotaResource } from './quota.js';

export const LIMITS_POLICY = {
  index: 'os_compute_api:limits',
  otherProject: 'os_compute_api:limits:other_project',
} as const;

/** Absolute limit names per quota resource, in Nova's order. */
const LIMIT_NAMES: [QuotaResource, string[]][] = [
  ['cores', ['maxTotalCores']],
  ['floating_ips', ['maxTotalFloatingIps']],
  ['injected_file_content_bytes', ['maxPersonalitySize']],
  ['injected_files', ['maxPersonality']],
  ['instances', ['maxTotalInstances']],
  ['key_pairs', ['maxTotalKeypairs']],
  ['metadata_items', ['maxServerMeta', 'maxImageMeta']],
  ['ram', ['maxTotalRAMSize']],
  ['security_group_rules', ['maxSecurityGroupRules']],
  ['security_groups', ['maxSecurityGroups']],
  ['server_group_members', ['maxServerGroupMembers']],
  ['server_groups', ['maxServerGroups']],
];

const USED_NAMES: [string, QuotaResource][] = [
  ['totalRAMUsed', 'ram'],
  ['totalCoresUsed', 'cores'],
  ['totalInstancesUsed', 'instances'],
  ['totalFloatingIpsUsed', 'floating_ips'],
  ['totalSecurityGroupsUsed', 'security_groups'],
  ['totalServerGroupsUsed', 'server_groups'],
];

const FILTERED_V236: QuotaResource[] = ['floating_ips', 'security_groups', 'security_group_rules'];
const FILTERED_V257: QuotaResource[] = [...FILTERED_V236, 'injected_files', 'injected_file_content_bytes'];

const limitsQuery = schemaFor(
  { max: '2.74', schema: querySchema({ tenant_id: qparam() }, false) },
  { min: '2.75', schema: querySchema({ tenant_id: qparam() }, true) },
);

async function showLimits(deps: ComputeDeps, req: ComputeRequest): Promise<Reply> {
  authorize(deps, req, LIMITS_POLICY.index, {});
  let projectId = req.ctx.projectId ?? '';
  if (hasParam(req.query, 'tenant_id')) {
    projectId = lastParam(req.query, 'tenant_id') ?? '';
    authorize(deps, req, LIMITS_POLICY.otherProject, defaultTarget(req));
  }
  const filtered = req.mv.ge('2.57') ? FILTERED_V257 : req.mv.ge('2.36') ? FILTERED_V236 : [];
  const maxImageMeta = req.mv.lt('2.39');
  const limits = await quotaLimits(deps.db, deps.config, projectId);
  const counts = (await countInstances(deps.db, projectId)).project;
  const inUse: Partial<Record<QuotaResource, number>> = {
    instances: counts.instances,
    cores: counts.cores,
    ram: counts.ram,
    server_groups: await countServerGroups(deps.db, projectId),
  };

  const absolute: Record<string, number> = {};
  for (const [resource, names] of LIMIT_NAMES) {
    if (filtered.includes(resource)) continue;
    for (const n of names) {
      if (n === 'maxImageMeta' && !maxImageMeta) continue;
      absolute[n] = limits[resource];
    }
  }
  for (const [n, resource] of USED_NAMES) {
    if (filtered.includes(resource)) continue;
    absolute[n] = inUse[resource] ?? 0;
  }
  return { status: 200, body: { limits: { rate: [], absolute } } };
}

export function limitRoutes(deps: ComputeDeps): RouteDef[] {
  return [{ method: 'GET', path: '/limits', query: limitsQuery, handler: (req) => showLimits(deps, req) }];
}
