import type { ComputeRequest, Reply, RouteDef } from '../../api/route.js';
import { credentials } from '../../context.js';
import { badRequest, notFound } from '../../errors.js';
import { isoMicro, parseIsoTime } from '../../lib/time.js';
import { ADMIN, PROJECT_MANAGER_OR_ADMIN } from '../../policy/base.js';
import type { PolicyDefault } from '../../policy/types.js';
import type { ComputeDeps } from '../deps.js';
import { lastParam, limitAndMarker, nextLinks } from '../resources/common.js';
import { authorize, loadServer } from '../servers/common.js';
import type { Migration } from './repo.js';

/**
 * GET /os-migrations (every resize, cold and live migration and
 * evacuation, newest first) and GET /servers/{id}/migrations[/{id}]
 * (2.23+: in-progress live migrations only, so none yet, as Nova shows
 * none for cold migrations and resizes).
 */
const POLICY = {
  index: 'os_compute_api:os-migrations:index',
  allProjects: 'os_compute_api:os-migrations:index:all_projects',
  host: 'os_compute_api:os-migrations:index:host',
  serverIndex: 'os_compute_api:servers:migrations:index',
  serverIndexHost: 'os_compute_api:servers:migrations:index:host',
  serverShow: 'os_compute_api:servers:migrations:show',
};

export const migrationsPolicies: PolicyDefault[] = [
  { name: POLICY.index, check: PROJECT_MANAGER_OR_ADMIN, description: 'List migrations', operations: [{ method: 'GET', path: '/os-migrations' }] },
  { name: POLICY.allProjects, check: ADMIN, description: 'List migrations of all or another project', operations: [{ method: 'GET', path: '/os-migrations' }] },
  { name: POLICY.host, check: ADMIN, description: 'Show host fields of migrations', operations: [{ method: 'GET', path: '/os-migrations' }] },
  { name: POLICY.serverIndex, check: PROJECT_MANAGER_OR_ADMIN, description: 'List in-progress live migrations of a server', operations: [{ method: 'GET', path: '/servers/{server_id}/migrations' }] },
  { name: POLICY.serverIndexHost, check: ADMIN, description: 'Show host fields of a server\'s migrations', operations: [{ method: 'GET', path: '/servers/{server_id}/migrations' }] },
  { name: POLICY.serverShow, check: ADMIN, description: 'Show an in-progress live migration of a server', operations: [{ method: 'GET', path: '/servers/{server_id}/migrations/{migration_id}' }] },
];

function view(req: ComputeRequest, m: Migration, addHost: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {
    id: m.id,
    status: m.status,
    instance_uuid: m.instance_uuid,
    source_node: addHost ? m.source_node : null,
    dest_node: addHost ? m.dest_node : null,
    source_compute: addHost ? m.source_compute : null,
    dest_compute: addHost ? m.dest_compute : null,
    dest_host: addHost ? m.dest_host : null,
    old_instance_type_id: m.old_instance_type_id,
    new_instance_type_id: m.new_instance_type_id,
    created_at: m.created_at,
    updated_at: m.updated_at,
  };
  if (req.mv.ge('2.23')) out.migration_type = m.migration_type;
  if (req.mv.ge('2.59')) out.uuid = m.uuid;
  if (req.mv.ge('2.80')) {
    out.user_id = m.user_id;
    out.project_id = m.project_id;
  }
  return out;
}

function timeParam(req: ComputeRequest, key: string): string | undefined {
  const v = lastParam(req.query, key);
  if (v === undefined) return undefined;
  const d = parseIsoTime(v);
  if (!d) throw badRequest(`Invalid input for query parameters ${key}. Value: ${v}. '${v}' is not a 'date-time'`);
  return isoMicro(d.getTime());
}

async function index(deps: ComputeDeps, req: ComputeRequest): Promise<Reply> {
  const creds = credentials(req.ctx);
  authorize(deps, req, POLICY.index, { project_id: req.ctx.projectId });
  const mv = req.mv;
  const projectFilter = mv.ge('2.80') ? lastParam(req.query, 'project_id') : undefined;
  if (!projectFilter || projectFilter !== req.ctx.projectId) authorize(deps, req, POLICY.allProjects, { project_id: req.ctx.projectId });
  const addHost = deps.policy.allowed(POLICY.host, { project_id: req.ctx.projectId }, creds);
  let q = deps.db.selectFrom('migrations').selectAll().where('hidden', '=', 0).where('deleted', '=', 0);
  const host = lastParam(req.query, 'host');
  if (host !== undefined) q = q.where((eb) => eb.or([eb('source_compute', '=', host), eb('dest_compute', '=', host)]));
  const eq = (key: string, col: 'status' | 'instance_uuid' | 'source_compute' | 'migration_type' | 'user_id' | 'project_id') => {
    const v = lastParam(req.query, key);
    if (v !== undefined) q = q.where(col, '=', v);
  };
  eq('status', 'status');
  eq('instance_uuid', 'instance_uuid');
  eq('source_compute', 'source_compute');
  eq('migration_type', 'migration_type');
  if (mv.ge('2.80')) {
    eq('user_id', 'user_id');
    eq('project_id', 'project_id');
  }
  const since = mv.ge('2.59') ? timeParam(req, 'changes-since') : undefined;
  const before = mv.ge('2.66') ? timeParam(req, 'changes-before') : undefined;
  if (since && before && before < since) throw badRequest('The value of changes-since must be less than or equal to changes-before.');
  if (since) q = q.where('updated_at', '>=', since);
  if (before) q = q.where('updated_at', '<=', before);
  q = q.orderBy('created_at', 'desc').orderBy('id', 'desc');
  if (!mv.ge('2.59')) {
    const rows = await q.execute();
    return { status: 200, body: { migrations: rows.map((m) => view(req, m, addHost)) } };
  }
  const max = deps.config.compute.max_limit;
  const { limit, marker } = limitAndMarker(req.query, max);
  let rows = await q.execute();
  if (marker !== undefined) {
    const at = rows.findIndex((m) => m.uuid === marker);
    if (at < 0) throw badRequest(`Marker ${marker} could not be found.`);
    rows = rows.slice(at + 1);
  }
  rows = rows.slice(0, limit);
  const body: Record<string, unknown> = { migrations: rows.map((m) => view(req, m, addHost)) };
  const links = nextLinks(req, max, rows.length, rows[rows.length - 1]?.uuid, 'os-migrations');
  if (links.length > 0) body.migrations_links = links;
  return { status: 200, body };
}

export function migrationRoutes(deps: ComputeDeps): RouteDef[] {
  return [
    { method: 'GET', path: '/os-migrations', handler: (req) => index(deps, req) },
    {
      method: 'GET',
      path: '/servers/:server_id/migrations',
      min: '2.23',
      handler: async (req) => {
        const inst = await loadServer(deps, req, req.params.server_id ?? '');
        authorize(deps, req, POLICY.serverIndex, { project_id: inst.project_id });
        return { status: 200, body: { migrations: [] } };
      },
    },
    {
      method: 'GET',
      path: '/servers/:server_id/migrations/:migration_id',
      min: '2.23',
      handler: async (req) => {
        const inst = await loadServer(deps, req, req.params.server_id ?? '');
        authorize(deps, req, POLICY.serverShow, { project_id: inst.project_id });
        throw notFound(`In-progress live migration ${req.params.migration_id ?? ''} is not found for server ${inst.uuid}.`);
      },
    },
  ];
}
