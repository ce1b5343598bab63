import type { Selectable } from 'kysely';
import type { ComputeRequest, Query, Reply, RouteDef } from '../../api/route.js';
import { badRequest, errors, notFound } from '../../errors.js';
import { isoMicro, parseIsoTime } from '../../lib/time.js';
import type { ComputeDeps } from '../deps.js';
import { allowed, authorize, lastParam, limitAndMarker, nextLinks, querySchema } from '../resources/common.js';
import { schemaFor } from '../../api/validation.js';
import { findInstance, type Instance } from '../servers/repo.js';
import { hostId } from '../servers/view.js';
import type { InstanceActionEventRow, InstanceActionRow } from '../tables.js';
import { IA_POLICY } from './policies.js';

type ActionRow = Selectable<InstanceActionRow>;
type EventRow = Selectable<InstanceActionEventRow>;

/**
 * os-instance-actions: what was done to a server, by whom, under which
 * request id, and (show) the events each component recorded while doing it.
 */

/** From 2.21 the actions of deleted servers can be read too. */
async function loadForActions(deps: ComputeDeps, req: ComputeRequest): Promise<Instance> {
  const uuid = req.params.server_id ?? '';
  const inst = await findInstance(deps.db, uuid, {
    projectId: req.ctx.isAdmin ? null : (req.ctx.projectId ?? ''),
    readDeleted: req.mv.ge('2.21'),
  });
  if (!inst) throw errors.instanceNotFound(uuid);
  return inst;
}

function formatAction(req: ComputeRequest, a: ActionRow): Record<string, unknown> {
  const out: Record<string, unknown> = {
    action: a.action,
    instance_uuid: a.instance_uuid,
    request_id: a.request_id,
    user_id: a.user_id,
    project_id: a.project_id,
    start_time: a.start_time,
    message: a.message,
  };
  if (req.mv.ge('2.58')) out.updated_at = a.updated_at;
  return out;
}

const INDEX_KEYS_V258 = ['limit', 'marker', 'changes-since'];

/** 2.58+ query string: known keys only, each given once, limit a non-negative integer, times ISO 8601. */
function checkIndexQuery(req: ComputeRequest): void {
  const q: Query = req.query;
  const known = req.mv.ge('2.66') ? [...INDEX_KEYS_V258, 'changes-before'] : INDEX_KEYS_V258;
  for (const key of Object.keys(q)) {
    if (!known.includes(key)) throw badRequest(`Additional properties are not allowed ('${key}' was unexpected)`);
  }
  for (const key of known) {
    const v = q[key];
    if (v === undefined) continue;
    if (Array.isArray(v) && v.length > 1) {
      const shown = `[${v.map((x) => `'${x}'`).join(', ')}]`;
      throw badRequest(`Invalid input for query parameters ${key}. Value: ${shown}. ${shown} is too long`);
    }
    const one = Array.isArray(v) ? (v[0] ?? '') : v;
    if (key === 'limit') {
      if (!/^[0-9]*$/.test(one)) throw badRequest(`Invalid input for query parameters limit. Value: ${one}. '${one}' does not match '^[0-9]*$'`);
      if (one === '') throw badRequest(`Invalid input for query parameters limit. Value: . '' should be non-empty`);
    }
    if ((key === 'changes-since' || key === 'changes-before') && parseIsoTime(one) === null) {
      throw badRequest(`Invalid input for query parameters ${key}. Value: ${one}. '${one}' is not a 'date-time'`);
    }
  }
}

async function listActions(deps: ComputeDeps, req: ComputeRequest): Promise<Reply> {
  const paged = req.mv.ge('2.58');
  if (paged) checkIndexQuery(req);
  const inst = await loadForActions(deps, req);
  authorize(deps, req, IA_POLICY.list, { project_id: inst.project_id });
  let q = deps.db.selectFrom('instance_actions').selectAll().where('instance_uuid', '=', inst.uuid);
  let limit: number | undefined;
  if (paged) {
    const sinceRaw = lastParam(req.query, 'changes-since');
    const beforeRaw = req.mv.ge('2.66') ? lastParam(req.query, 'changes-before') : undefined;
    const since = sinceRaw === undefined ? null : parseIsoTime(sinceRaw);
    const before = beforeRaw === undefined ? null : parseIsoTime(beforeRaw);
    if (since && before && before.getTime() < since.getTime()) {
      throw badRequest('The value of changes-since must be less than or equal to changes-before.');
    }
    if (since) q = q.where('updated_at', '>=', isoMicro(since.getTime()));
    if (before) q = q.where('updated_at', '<=', isoMicro(before.getTime()));
    const lm = limitAndMarker(req.query, deps.config.compute.max_limit);
    limit = lm.limit;
    if (limit === 0) return { status: 200, body: { instanceActions: [] } };
    if (lm.marker !== undefined) {
      const m = await deps.db
        .selectFrom('instance_actions')
        .select(['id', 'start_time'])
        .where('instance_uuid', '=', inst.uuid)
        .where('request_id', '=', lm.marker)
        .orderBy('start_time', 'desc')
        .orderBy('id', 'desc')
        .executeTakeFirst();
      // Nova's DB layer reports the marker it failed to load, which is None.
      if (!m) throw badRequest('Marker None could not be found.');
      q = q.where((eb) =>
        eb.or([eb('start_time', '<', m.start_time), eb.and([eb('start_time', '=', m.start_time), eb('id', '<', m.id)])]),
      );
    }
    q = q.limit(limit);
  }
  const rows = await q.orderBy('start_time', 'desc').orderBy('id', 'desc').execute();
  const actions = rows.map((a) => formatAction(req, a));
  const body: Record<string, unknown> = { instanceActions: actions };
  if (paged) {
    const links = nextLinks(req, deps.config.compute.max_limit, actions.length, rows.at(-1)?.request_id, `servers/${inst.uuid}/os-instance-actions`);
    if (links.length > 0) body.links = links;
  }
  return { status: 200, body };
}

async function showAction(deps: ComputeDeps, req: ComputeRequest): Promise<Reply> {
  const inst = await loadForActions(deps, req);
  const target = { project_id: inst.project_id };
  authorize(deps, req, IA_POLICY.show, target);
  const requestId = req.params.request_id ?? '';
  const row = await deps.db
    .selectFrom('instance_actions')
    .selectAll()
    .where('instance_uuid', '=', inst.uuid)
    .where('request_id', '=', requestId)
    .orderBy('start_time', 'desc')
    .orderBy('id', 'desc')
    .executeTakeFirst();
  if (!row) throw notFound(`Action ${requestId} not found`);
  const action = formatAction(req, row);

  // Before 2.51 only callers allowed the events rule (admins) see events;
  // from 2.51 everyone who may show the action does, without the traceback.
  let showEvents = false;
  let showTraceback = false;
  let showHost = false;
  if (allowed(deps, req, IA_POLICY.events, target)) {
    showEvents = true;
    showTraceback = true;
    showHost = req.mv.ge('2.62');
  } else if (req.mv.ge('2.51')) {
    showEvents = true;
  }
  const showHostId = req.mv.ge('2.62');
  if (showEvents) {
    const showDetails = req.mv.ge('2.84') && allowed(deps, req, IA_POLICY.eventsDetails, target);
    const events: EventRow[] = await deps.db
      .selectFrom('instance_actions_events')
      .selectAll()
      .where('action_id', '=', row.id)
      .orderBy('start_time', 'desc')
      .orderBy('id', 'desc')
      .execute();
    const projectId = row.project_id || inst.project_id;
    action.events = events.map((e) => {
      const ev: Record<string, unknown> = { event: e.event, start_time: e.start_time, finish_time: e.finish_time, result: e.result };
      if (showTraceback) ev.traceback = e.traceback;
      if (showHost) ev.host = e.host;
      if (showHostId) ev.hostId = hostId(projectId, e.host);
      if (showDetails) ev.details = e.details;
      return ev;
    });
  }
  return { status: 200, body: { instanceAction: action } };
}

const showQuery = schemaFor({ max: '2.101', schema: querySchema({}, false) }, { min: '2.102', schema: querySchema({}, true) });

export function instanceActionRoutes(deps: ComputeDeps): RouteDef[] {
  return [
    { method: 'GET', path: '/servers/:server_id/os-instance-actions', handler: (r) => listActions(deps, r) },
    { method: 'GET', path: '/servers/:server_id/os-instance-actions/:request_id', query: showQuery, handler: (r) => showAction(deps, r) },
  ];
}
