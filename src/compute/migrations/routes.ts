import { Type } from '@sinclair/typebox';
import type { ComputeRequest, Reply, RouteDef } from '../../api/route.js';
import { schemaFor } from '../../api/validation.js';
import { credentials } from '../../context.js';
import { badRequest, notFound } from '../../errors.js';
import { isoMicro, parseIsoTime } from '../../lib/time.js';
import { ADMIN, PROJECT_MANAGER_OR_ADMIN } from '../../policy/base.js';
import type { PolicyDefault } from '../../policy/types.js';
import type { ComputeDeps } from '../deps.js';
import { lastParam, limitAndMarker, nextLinks, resourceLinks } from '../resources/common.js';
import { authorize, loadServer } from '../servers/common.js';
import { check, recordRequestAction } from '../actions/start.js';
import { computeTopic } from '../conductor.js';
import { obj } from '../servers/schema.js';
import type { Instance } from '../servers/repo.js';
import { VmState } from '../states.js';
import { LIVE_IN_PROGRESS, type Migration } from './repo.js';

/**
 * GET /os-migrations (every resize, cold and live migration and
 * evacuation, newest first) and the in-progress live migrations of a
 * server: GET /servers/{id}/migrations[/{id}] (2.23), force_complete
 * (2.22) and abort (DELETE, 2.24; a queued or preparing one from 2.65).
 */
const POLICY = {
  index: 'os_compute_api:os-migrations:index',
  allProjects: 'os_compute_api:os-migrations:index:all_projects',
  host: 'os_compute_api:os-migrations:index:host',
  serverIndex: 'os_compute_api:servers:migrations:index',
  serverIndexHost: 'os_compute_api:servers:migrations:index:host',
  serverShow: 'os_compute_api:servers:migrations:show',
  forceComplete: 'os_compute_api:servers:migrations:force_complete',
  abort: 'os_compute_api:servers:migrations:delete',
};

export const migrationsPolicies: PolicyDefault[] = [
  { name: POLICY.index, check: PROJECT_MANAGER_OR_ADMIN, description: 'List migrations', operations: [{ method: 'GET', path: '/os-migrations' }] },
  { name: POLICY.allProjects, check: ADMIN, description: 'List migrations of all or another project', operations: [{ method: 'GET', path: '/os-migrations' }] },
  { name: POLICY.host, check: ADMIN, description: 'Show host fields of migrations', operations: [{ method: 'GET', path: '/os-migrations' }] },
  { name: POLICY.serverIndex, check: PROJECT_MANAGER_OR_ADMIN, description: 'List in-progress live migrations of a server', operations: [{ method: 'GET', path: '/servers/{server_id}/migrations' }] },
  { name: POLICY.serverIndexHost, check: ADMIN, description: 'Show host fields of a server\'s migrations', operations: [{ method: 'GET', path: '/servers/{server_id}/migrations' }] },
  { name: POLICY.serverShow, check: ADMIN, description: 'Show an in-progress live migration of a server', operations: [{ method: 'GET', path: '/servers/{server_id}/migrations/{migration_id}' }] },
  {
    name: POLICY.forceComplete,
    check: PROJECT_MANAGER_OR_ADMIN,
    description: 'Force an in-progress live migration of a server to complete',
    operations: [{ method: 'POST', path: '/servers/{server_id}/migrations/{migration_id}/action (force_complete)' }],
  },
  { name: POLICY.abort, check: PROJECT_MANAGER_OR_ADMIN, description: 'Abort an in-progress live migration of a server', operations: [{ method: 'DELETE', path: '/servers/{server_id}/migrations/{migration_id}' }] },
];

/** A server migration (GET /servers/{id}/migrations[/{id}]): progress in bytes, host fields per policy. */
function serverView(req: ComputeRequest, m: Migration, addHost: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {
    created_at: m.created_at,
    dest_compute: addHost ? m.dest_compute : null,
    dest_host: addHost ? m.dest_host : null,
    dest_node: addHost ? m.dest_node : null,
    disk_processed_bytes: m.disk_processed,
    disk_remaining_bytes: m.disk_remaining,
    disk_total_bytes: m.disk_total,
    id: m.id,
    memory_processed_bytes: m.memory_processed,
    memory_remaining_bytes: m.memory_remaining,
    memory_total_bytes: m.memory_total,
    server_uuid: m.instance_uuid,
    source_compute: addHost ? m.source_compute : null,
    source_node: addHost ? m.source_node : null,
    status: m.status,
    updated_at: m.updated_at,
  };
  if (req.mv.ge('2.59')) out.uuid = m.uuid;
  if (req.mv.ge('2.80')) {
    out.user_id = m.user_id;
    out.project_id = m.project_id;
  }
  return out;
}

/** The server's migration with this id (an integer in the path); anything else is not found. */
async function migrationById(deps: ComputeDeps, inst: Instance, id: string): Promise<Migration | undefined> {
  if (!/^[0-9]{1,15}$/.test(id)) return undefined;
  return deps.db.selectFrom('migrations').selectAll().where('id', '=', Number(id)).where('instance_uuid', '=', inst.uuid).where('deleted', '=', 0).executeTakeFirst();
}

const notFoundForInstance = (id: string, uuid: string) => `Migration ${id} not found for instance ${uuid}`;
const invalidMigrationState = (m: Migration, uuid: string, method: string) =>
  `Migration ${m.id} state of instance ${uuid} is ${m.status}. Cannot ${method} while the migration is in this state.`;

/** instance_type_id is an integer in Nova's API. */
const typeId = (v: string | null): number | null => (v !== null && /^[0-9]+$/.test(v) ? Number(v) : null);

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
    old_instance_type_id: typeId(m.old_instance_type_id),
    new_instance_type_id: typeId(m.new_instance_type_id),
    created_at: m.created_at,
    updated_at: m.updated_at,
  };
  if (req.mv.ge('2.23')) {
    out.migration_type = m.migration_type;
    if (m.migration_type === 'live-migration' && LIVE_IN_PROGRESS.includes(m.status)) out.links = resourceLinks(req, `servers/${m.instance_uuid}/migrations`, String(m.id));
  }
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
        const addHost = deps.policy.allowed(POLICY.serverIndexHost, { project_id: inst.project_id }, credentials(req.ctx));
        const rows = await deps.db
          .selectFrom('migrations')
          .selectAll()
          .where('instance_uuid', '=', inst.uuid)
          .where('migration_type', '=', 'live-migration')
          .where('status', 'in', [...LIVE_IN_PROGRESS])
          .where('deleted', '=', 0)
          .orderBy('id')
          .execute();
        return { status: 200, body: { migrations: rows.map((m) => serverView(req, m, addHost)) } };
      },
    },
    {
      method: 'GET',
      path: '/servers/:server_id/migrations/:migration_id',
      min: '2.23',
      handler: async (req) => {
        const inst = await loadServer(deps, req, req.params.server_id ?? '');
        authorize(deps, req, POLICY.serverShow, { project_id: inst.project_id });
        const id = req.params.migration_id ?? '';
        const m = await migrationById(deps, inst, id);
        if (!m) throw notFound(`In-progress live migration ${id} is not found for server ${inst.uuid}.`);
        if (m.migration_type !== 'live-migration') throw notFound(`Migration ${id} for server ${inst.uuid} is not live-migration.`);
        if (!LIVE_IN_PROGRESS.includes(m.status)) throw notFound(`Live migration ${id} for server ${inst.uuid} is not in progress.`);
        return { status: 200, body: { migration: serverView(req, m, true) } };
      },
    },
    {
      method: 'POST',
      path: '/servers/:server_id/migrations/:migration_id/action',
      min: '2.22',
      body: schemaFor({ schema: obj({ force_complete: Type.Null() }, ['force_complete']) }),
      handler: async (req) => {
        const inst = await loadServer(deps, req, req.params.server_id ?? '');
        check(deps, req, inst, {
          policy: POLICY.forceComplete,
          target: 'project',
          stateAction: 'force_complete',
          vmStates: [VmState.ACTIVE],
          taskStates: ['migrating'],
        });
        const id = req.params.migration_id ?? '';
        const m = await migrationById(deps, inst, id);
        if (!m) throw badRequest(notFoundForInstance(id, inst.uuid));
        if (m.status !== 'running') throw badRequest(invalidMigrationState(m, inst.uuid, 'force complete'));
        await recordRequestAction(deps, req, inst, 'live_migration_force_complete');
        if (inst.host) deps.bus.cast(computeTopic(inst.host), 'live_migration_force_complete', { uuid: inst.uuid, requestId: req.requestId, migrationUuid: m.uuid });
        return { status: 202 };
      },
    },
    {
      method: 'DELETE',
      path: '/servers/:server_id/migrations/:migration_id',
      min: '2.24',
      handler: async (req) => {
        const inst = await loadServer(deps, req, req.params.server_id ?? '');
        check(deps, req, inst, {
          policy: POLICY.abort,
          target: 'project',
          stateAction: 'abort live migration',
          vmStates: null,
          taskStates: ['migrating'],
        });
        const id = req.params.migration_id ?? '';
        const m = await migrationById(deps, inst, id);
        if (!m) throw notFound(notFoundForInstance(id, inst.uuid));
        const allowed = req.mv.ge('2.65') ? ['running', 'queued', 'preparing'] : ['running'];
        if (!allowed.includes(m.status)) throw badRequest(invalidMigrationState(m, inst.uuid, 'abort live migration'));
        await recordRequestAction(deps, req, inst, 'live_migration_cancel');
        if (inst.host) deps.bus.cast(computeTopic(inst.host), 'live_migration_abort', { uuid: inst.uuid, requestId: req.requestId, migrationUuid: m.uuid });
        return { status: 202 };
      },
    },
  ];
}
