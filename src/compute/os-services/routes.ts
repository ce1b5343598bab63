import type { ComputeRequest, Reply, RouteDef } from '../../api/route.js';
import { schemaFor } from '../../api/validation.js';
import { badRequest, conflict, notFound } from '../../errors.js';
import { isoMicro } from '../../lib/time.js';
import type { ComputeDeps } from '../deps.js';
import { authorize, boolFromString, lastParam, pyInt, qparam, querySchema, raw } from '../resources/common.js';
import { BOOLEAN } from '../resources/flavors.schema.js';
import { SERVICES_POLICY } from './policies.js';
import { COMPUTE_BINARY, isUp, listServices, serviceTime, type ServiceRow } from './repo.js';

/**
 * os-services: the control plane's services, their state (up/down from
 * heartbeats) and the operator's switches: disable a compute host for
 * scheduling, force it down, delete its record.
 */

const UUID_RE = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;
/** oslo is_uuid_like: a UUID, with or without dashes, any case, optionally in braces or urn form. */
function isUuidLike(s: string): boolean {
  const t = s.replace(/^urn:uuid:/i, '').replace(/^\{(.*)\}$/, '$1');
  return UUID_RE.test(t);
}

const FQDN = { type: 'string', minLength: 1, maxLength: 255, pattern: '^[a-zA-Z0-9-._]*$' };
const BINARY = { type: 'string', minLength: 1, maxLength: 255 };
const REASON = { type: 'string', minLength: 1, maxLength: 255 };

const updateBody = schemaFor(
  { max: '2.10', schema: raw({ type: 'object', properties: { host: FQDN, binary: BINARY, disabled_reason: REASON }, required: ['host', 'binary'], additionalProperties: false }) },
  {
    min: '2.11',
    max: '2.52',
    schema: raw({ type: 'object', properties: { host: FQDN, binary: BINARY, disabled_reason: REASON, forced_down: BOOLEAN }, required: ['host', 'binary'], additionalProperties: false }),
  },
  { min: '2.53', schema: raw({ type: 'object', properties: { status: { type: 'string', enum: ['enabled', 'disabled'] }, disabled_reason: REASON, forced_down: BOOLEAN }, additionalProperties: false }) },
);

const indexQuery = schemaFor(
  { max: '2.74', schema: querySchema({ host: qparam(), binary: qparam() }, false) },
  { min: '2.75', schema: querySchema({ host: qparam(), binary: qparam() }, true) },
);

function view(deps: ComputeDeps, req: ComputeRequest, s: ServiceRow, forcedDown: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {
    binary: s.binary,
    host: s.host,
    id: req.mv.ge('2.53') ? s.uuid : s.id,
    zone: s.availability_zone,
    status: s.disabled ? 'disabled' : 'enabled',
    state: isUp(s, deps.clock.now(), deps.config.compute.service_down_time) ? 'up' : 'down',
    updated_at: serviceTime(s.updated_at),
    disabled_reason: s.disabled_reason,
  };
  if (forcedDown) out.forced_down = s.forced_down !== 0;
  return out;
}

async function index(deps: ComputeDeps, req: ComputeRequest): Promise<Reply> {
  authorize(deps, req, SERVICES_POLICY.list, {});
  const host = lastParam(req.query, 'host');
  const binary = lastParam(req.query, 'binary');
  let rows = await listServices(deps.db);
  if (host) rows = rows.filter((s) => s.host === host);
  if (binary) rows = rows.filter((s) => s.binary === binary);
  return { status: 200, body: { services: rows.map((s) => view(deps, req, s, req.mv.ge('2.11'))) } };
}

function onlyCompute(binary: string): void {
  if (binary !== COMPUTE_BINARY) {
    throw badRequest(`Updating a ${binary} service is not supported. Only nova-compute services can be updated.`);
  }
}

async function updateByHost(deps: ComputeDeps, host: string, binary: string, values: Partial<Pick<ServiceRow, 'disabled' | 'disabled_reason' | 'forced_down'>>): Promise<void> {
  onlyCompute(binary);
  const res = await deps.db
    .updateTable('compute_services')
    .set({ ...values, updated_at: isoMicro(deps.clock.now()) })
    .where('host', '=', host)
    .where('binary', '=', binary)
    .executeTakeFirst();
  if (Number(res.numUpdatedRows) === 0) throw notFound(`Could not find binary ${binary} on host ${host}.`);
}

/** PUT /os-services/{action} before 2.53: the service named by host and binary in the body. */
async function updateV21(deps: ComputeDeps, req: ComputeRequest, action: string): Promise<Reply> {
  authorize(deps, req, SERVICES_POLICY.update, {});
  const body = req.body as { host: string; binary: string; disabled_reason?: string; forced_down?: unknown };
  const { host, binary } = body;
  switch (action) {
    case 'enable':
      await updateByHost(deps, host, binary, { disabled: 0, disabled_reason: null });
      return { status: 200, body: { service: { host, binary, status: 'enabled' } } };
    case 'disable':
    case 'disable-log-reason': {
      let reason: string | null = null;
      if (action === 'disable-log-reason') {
        if (body.disabled_reason === undefined) throw badRequest('Missing disabled reason field');
        reason = body.disabled_reason;
      }
      await updateByHost(deps, host, binary, { disabled: 1, disabled_reason: reason });
      const service: Record<string, unknown> = { host, binary, status: 'disabled' };
      if (reason) service.disabled_reason = reason;
      return { status: 200, body: { service } };
    }
    case 'force-down': {
      if (!req.mv.ge('2.11')) break;
      if (body.forced_down === undefined) throw badRequest('Missing forced_down field');
      const forcedDown = boolFromString(body.forced_down) === true;
      await updateByHost(deps, host, binary, { forced_down: forcedDown ? 1 : 0 });
      return { status: 200, body: { service: { host, binary, forced_down: forcedDown } } };
    }
    default:
      break;
  }
  throw notFound('Unknown action');
}

/** PUT /os-services/{service_id} from 2.53: the service by uuid, the change in the body. */
async function updateV253(deps: ComputeDeps, req: ComputeRequest, id: string): Promise<Reply> {
  if (!isUuidLike(id)) throw badRequest(`Invalid uuid ${id}`);
  authorize(deps, req, SERVICES_POLICY.update, {});
  const row = (await listServices(deps.db)).find((s) => s.uuid === id);
  if (!row) throw notFound(`Service ${id} could not be found.`);
  onlyCompute(row.binary);
  const body = req.body as { status?: string; disabled_reason?: string; forced_down?: unknown };
  const values: Partial<Pick<ServiceRow, 'disabled' | 'disabled_reason' | 'forced_down'>> = {};
  if (body.status === 'enabled') {
    if (body.disabled_reason) throw badRequest("Specifying 'disabled_reason' with status 'enabled' is invalid.");
    if (row.disabled !== 0) values.disabled = 0;
    if (row.disabled_reason !== null) values.disabled_reason = null;
  } else if (body.status === 'disabled') {
    const reason = body.disabled_reason ?? null;
    if (row.disabled !== 1) values.disabled = 1;
    if (row.disabled_reason !== reason) values.disabled_reason = reason;
  }
  if (body.forced_down !== undefined) {
    const fd = boolFromString(body.forced_down, true) ? 1 : 0;
    if (fd !== row.forced_down) values.forced_down = fd;
  }
  // Nova checks what changed on its object; setting a field to the value it has is not a change.
  if (body.status === undefined && body.forced_down === undefined) {
    throw badRequest("No updates were requested. Fields 'status' or 'forced_down' should be specified.");
  }
  let updated = row;
  if (Object.keys(values).length > 0) {
    const updatedAt = isoMicro(deps.clock.now());
    await deps.db.updateTable('compute_services').set({ ...values, updated_at: updatedAt }).where('id', '=', row.id).execute();
    updated = { ...row, ...values, updated_at: updatedAt };
  }
  return { status: 200, body: { service: view(deps, req, updated, true) } };
}

async function update(deps: ComputeDeps, req: ComputeRequest): Promise<Reply> {
  const id = req.params.service_id ?? '';
  return req.mv.ge('2.53') ? updateV253(deps, req, id) : updateV21(deps, req, id);
}

async function remove(deps: ComputeDeps, req: ComputeRequest): Promise<Reply> {
  authorize(deps, req, SERVICES_POLICY.delete, {});
  const id = req.params.service_id ?? '';
  const rows = await listServices(deps.db);
  let row: ServiceRow | undefined;
  if (req.mv.ge('2.53')) {
    if (!isUuidLike(id)) throw badRequest(`Invalid uuid ${id}`);
    row = rows.find((s) => s.uuid === id);
  } else {
    const n = pyInt(id);
    if (n === null) throw badRequest('Invalid input received: id must be an integer');
    row = rows.find((s) => s.id === n);
  }
  if (!row) throw notFound(`Service ${id} not found.`);
  if (row.binary === COMPUTE_BINARY) {
    const hosted = await deps.db.selectFrom('instances').select('id').where('deleted', '=', 0).where('host', '=', row.host).executeTakeFirst();
    if (hosted) throw conflict('Unable to delete compute service that is hosting instances. Migrate or delete the instances first.');
  }
  await deps.db.deleteFrom('compute_services').where('id', '=', row.id).execute();
  return { status: 204 };
}

export function servicesRoutes(deps: ComputeDeps): RouteDef[] {
  return [
    { method: 'GET', path: '/os-services', query: indexQuery, handler: (r) => index(deps, r) },
    { method: 'PUT', path: '/os-services/:service_id', body: updateBody, handler: (r) => update(deps, r) },
    { method: 'DELETE', path: '/os-services/:service_id', handler: (r) => remove(deps, r) },
  ];
}
