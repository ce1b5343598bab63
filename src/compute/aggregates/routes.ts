import { randomUUID } from 'node:crypto';
import type { ComputeRequest, Reply, RouteDef } from '../../api/route.js';
import { pyRepr, schemaFor, type VersionedSchema } from '../../api/validation.js';
import { ApiError, badRequest, conflict, errors, notFound } from '../../errors.js';
import { isoMicro } from '../../lib/time.js';
import type { ComputeDeps } from '../deps.js';
import { COMPUTE_BINARY, serviceTime } from '../os-services/repo.js';
import { authorize, checkName, isValidDescription, isValidName, pyInt, raw } from '../resources/common.js';
import { strictFrom2102Query } from '../resources/flavors.schema.js';
import { AGGREGATE_POLICY } from './policies.js';
import {
  addHost,
  aggregatesOfHosts,
  aggregateWriter,
  AZ_KEY,
  deleteAggregate,
  findAggregateByName,
  getAggregate,
  insertAggregate,
  listAggregates,
  refreshHostZones,
  removeHost,
  renameAggregate,
  serversOnHosts,
  setMetadata,
  zoneOfAggregate,
  type Aggregate,
} from './repo.js';

/**
 * os-aggregates: named groups of compute hosts with metadata, for
 * administrators. An aggregate's `availability_zone` metadata puts its hosts
 * in that zone (the scheduler, os-availability-zone and os-services follow);
 * a host can be in several aggregates but in one zone only, and a host that
 * runs servers cannot change zone.
 */

/* ---- Request bodies ---- */

const NAME = { type: 'string', minLength: 1, maxLength: 255 };
/** Checked by checkZoneField (Nova's oneOf [az_name, null] answers one message for every failure). */
const ZONE = {};
const FQDN = { type: 'string', pattern: '^[a-zA-Z0-9-._]*$', minLength: 1, maxLength: 255 };
const METADATA = {
  type: 'object',
  patternProperties: { '^[a-zA-Z0-9-_:. ]{1,255}$': { type: ['string', 'null'], maxLength: 255 } },
  additionalProperties: false,
};

const wrapped = (key: string, props: Record<string, unknown>, required: string[]): VersionedSchema =>
  schemaFor({
    schema: raw({
      type: 'object',
      properties: { [key]: { type: 'object', properties: props, ...(required.length > 0 ? { required } : {}), additionalProperties: false } },
      required: [key],
      additionalProperties: false,
    }),
  });

const createBody = wrapped('aggregate', { name: NAME, availability_zone: ZONE }, ['name']);
const updateBody = wrapped('aggregate', { name: NAME, availability_zone: ZONE }, []);
const ACTION_BODIES: Record<string, VersionedSchema> = {
  add_host: wrapped('add_host', { host: FQDN }, ['host']),
  remove_host: wrapped('remove_host', { host: FQDN }, ['host']),
  set_metadata: wrapped('set_metadata', { metadata: METADATA }, ['metadata']),
};
const imagesBody = schemaFor({
  schema: raw({
    type: 'object',
    properties: {
      cache: {
        type: 'array',
        minItems: 1,
        items: { type: 'object', properties: { id: { type: 'string', format: 'uuid' } }, required: ['id'], additionalProperties: false },
      },
    },
    required: ['cache'],
    additionalProperties: false,
  }),
});

/** Python's `%s` of a JSON value, as the validator's "Value: …" shows it. */
const pyStr = (v: unknown): string => (typeof v === 'string' ? v : pyRepr(v));

const notAnyOf = (field: string, v: unknown): ApiError =>
  badRequest(`Invalid input for field/attribute ${field}. Value: ${pyStr(v)}. ${pyRepr(v)} is not valid under any of the given schemas`);

/** Nova's az_name: a name (printable, no leading or trailing whitespace) without ':'; or null. */
function checkZoneField(v: unknown): void {
  if (v === undefined || v === null) return;
  if (typeof v === 'string') {
    const len = [...v].length;
    if (len >= 1 && len <= 255 && isValidName(v) && !v.includes(':')) return;
  }
  throw notAnyOf('availability_zone', v);
}

/** Nova's name_with_leading_trailing_spaces (a rename): printable, with at least one character that is not a space. */
function checkNameWithSpaces(name: string): void {
  if (!isValidDescription(name) || !/[^\p{Zs}]/u.test(name)) {
    throw badRequest("An invalid 'name' value was provided. The name must be: printable characters with at least one non space character");
  }
}

/* ---- Responses ---- */

interface Times {
  /** A time Nova sets on its object without reading it back from its database (shown with microseconds). */
  createdAt?: string;
  updatedAt?: string;
}

/**
 * One aggregate. Times read from the database show whole seconds, as Nova's
 * MySQL columns keep them; `hosts` and `metadata` are left out of the
 * create response; `uuid` from 2.41.
 */
function view(req: ComputeRequest, a: Aggregate, full: boolean, t: Times = {}): Record<string, unknown> {
  const out: Record<string, unknown> = {
    availability_zone: zoneOfAggregate(a),
    created_at: t.createdAt ?? serviceTime(a.created_at),
    deleted: false,
    deleted_at: null,
  };
  if (full) out.hosts = a.hosts;
  out.id = a.id;
  if (full) out.metadata = a.metadata;
  out.name = a.name;
  out.updated_at = t.updatedAt ?? serviceTime(a.updated_at);
  if (req.mv.ge('2.41')) out.uuid = a.uuid;
  return out;
}

/* ---- Checks ---- */

/** utils.validate_integer on the URL's id. */
function aggregateId(req: ComputeRequest): { id: number; raw: string } {
  const rawId = req.params.id ?? '';
  const id = pyInt(rawId);
  if (id === null) throw badRequest('Invalid input received: id must be an integer');
  return { id, raw: rawId };
}

const aggregateNotFound = (rawId: string): ApiError => notFound(`Aggregate ${rawId} could not be found.`);

async function loadAggregate(deps: ComputeDeps, ref: { id: number; raw: string }): Promise<Aggregate> {
  const a = await getAggregate(deps.db, ref.id);
  if (!a) throw aggregateNotFound(ref.raw);
  return a;
}

type AggregateAction = 'add' | 'remove' | 'update' | 'update_meta';
const ACTION_PREFIX: Record<AggregateAction, string> = {
  add: 'Cannot add host to aggregate',
  remove: 'Cannot remove host from aggregate',
  update: 'Cannot update aggregate',
  update_meta: 'Cannot update metadata of aggregate',
};
/** Nova's InvalidAggregateAction* text; the status is the route's (409 for host changes, 400 otherwise). */
const invalidAction = (action: AggregateAction, id: number | string, reason: string): string => `${ACTION_PREFIX[action]} ${id}. Reason: ${reason}.`;

/** A host of a running nova-compute service that the configuration names. */
async function isComputeHost(deps: ComputeDeps, host: string): Promise<boolean> {
  if (!deps.config.compute.hosts.some((h) => h.name === host)) return false;
  const row = await deps.db.selectFrom('compute_services').select('id').where('binary', '=', COMPUTE_BINARY).where('host', '=', host).executeTakeFirst();
  return row !== undefined;
}

/**
 * Nova's is_safe_to_update_az: a new zone may not be empty, may not put a
 * host into a second zone, and (for a change of an aggregate's own zone) may
 * not move servers that already run on its hosts.
 */
async function checkZoneChange(
  deps: ComputeDeps,
  a: Aggregate,
  metadata: Record<string, unknown>,
  action: AggregateAction,
  status: 400 | 409,
  opts: { hosts?: string[]; checkServers?: boolean } = {},
): Promise<void> {
  if (!(AZ_KEY in metadata)) return;
  const zone = metadata[AZ_KEY];
  const fail = (reason: string) => new ApiError(status, invalidAction(action, a.id, reason));
  if (typeof zone !== 'string' || zone === '') throw fail(`Aggregate ${a.name} does not support empty named availability zone`);
  const hosts = opts.hosts ?? a.hosts;
  const others = (await aggregatesOfHosts(deps.db, hosts)).filter((g) => AZ_KEY in g.metadata);
  const conflicting = others.filter((g) => zoneOfAggregate(g) !== zone && g.id !== a.id).map(zoneOfAggregate);
  if (conflicting.length > 0) throw fail(`One or more hosts already in availability zone(s) ${pyRepr(conflicting)}`);
  if (opts.checkServers && zoneOfAggregate(a) !== zone && (await serversOnHosts(deps.db, hosts)) > 0) {
    throw fail('One or more hosts contain instances in this zone');
  }
}

const moveMessage = (verb: 'added to' | 'removed from', from: string | null, to: string | null, n: number): string =>
  `The host cannot be ${verb} the aggregate as the availability zone of the host would change from '${from ?? 'None'}' to '${to ?? 'None'}' ` +
  `but the host already has ${n} instance(s). Changing the AZ of an existing instance is not supported by this action. ` +
  'Move the instances away from this host then try again. If you need to move the instances between AZs then you can use shelve_offload and unshelve to achieve this.';

/** The zone the aggregates of `host` name, leaving out aggregate `except`; null when none does. */
async function aggregateZoneOf(deps: ComputeDeps, host: string, except?: number): Promise<string | null> {
  const zoned = (await aggregatesOfHosts(deps.db, [host])).filter((g) => g.id !== except && AZ_KEY in g.metadata);
  return zoned[0] ? zoneOfAggregate(zoned[0]) : null;
}

/** A host that runs servers may not change zone by joining or leaving an aggregate. */
async function checkServersStay(deps: ComputeDeps, a: Aggregate, host: string, joining: boolean): Promise<void> {
  const n = await serversOnHosts(deps.db, [host]);
  if (n === 0) return;
  const zone = zoneOfAggregate(a);
  if (!zone) return;
  if (joining) {
    const before = await aggregateZoneOf(deps, host);
    if (before !== zone) throw conflict(invalidAction('add', a.id, moveMessage('added to', before, zone, n)));
  } else {
    const after = await aggregateZoneOf(deps, host, a.id);
    if (after !== zone) throw conflict(invalidAction('remove', a.id, moveMessage('removed from', zone, after, n)));
  }
}

/* ---- Handlers ---- */

async function index(deps: ComputeDeps, req: ComputeRequest): Promise<Reply> {
  authorize(deps, req, AGGREGATE_POLICY.index, {});
  const all = await listAggregates(deps.db);
  return { status: 200, body: { aggregates: all.map((a) => view(req, a, true)) } };
}

async function create(deps: ComputeDeps, req: ComputeRequest): Promise<Reply> {
  const body = (req.body as { aggregate: { name: string; availability_zone?: unknown } }).aggregate;
  checkName(body.name);
  checkZoneField(body.availability_zone);
  authorize(deps, req, AGGREGATE_POLICY.create, {});
  const name = body.name.trim();
  const zone = typeof body.availability_zone === 'string' ? body.availability_zone.trim() : '';
  return aggregateWriter(deps.db).run(async () => {
    if (await findAggregateByName(deps.db, name)) throw conflict(`Aggregate ${name} already exists.`);
    const now = isoMicro(deps.clock.now());
    const a: Aggregate = { id: 0, uuid: randomUUID(), name, created_at: now, updated_at: null, hosts: [], metadata: zone ? { [AZ_KEY]: zone } : {} };
    a.id = await insertAggregate(deps.db, a);
    return { status: 200, body: { aggregate: view(req, a, false, { createdAt: now }) } };
  });
}

async function show(deps: ComputeDeps, req: ComputeRequest): Promise<Reply> {
  authorize(deps, req, AGGREGATE_POLICY.show, {});
  const a = await loadAggregate(deps, aggregateId(req));
  return { status: 200, body: { aggregate: view(req, a, true) } };
}

async function update(deps: ComputeDeps, req: ComputeRequest): Promise<Reply> {
  const body = (req.body as { aggregate: { name?: string; availability_zone?: unknown } }).aggregate;
  if (body.name !== undefined) checkNameWithSpaces(body.name);
  checkZoneField(body.availability_zone);
  if (body.name === undefined && !('availability_zone' in body)) throw notAnyOf('aggregate', body);
  authorize(deps, req, AGGREGATE_POLICY.update, {});
  const ref = aggregateId(req);
  return aggregateWriter(deps.db).run(async () => {
    let a = await loadAggregate(deps, ref);
    const now = isoMicro(deps.clock.now());
    if (body.name !== undefined) {
      const name = body.name.trim();
      const holder = await findAggregateByName(deps.db, name);
      if (holder && holder.id !== a.id) throw conflict(`Aggregate ${name} already exists.`);
      // Saving the name it already has changes no row (updated_at stays).
      if (name !== a.name) {
        await renameAggregate(deps.db, a.id, name, now);
        a = { ...a, name, updated_at: now };
      }
    }
    let times: Times = {};
    if ('availability_zone' in body) {
      const zone = body.availability_zone;
      await checkZoneChange(deps, a, { [AZ_KEY]: zone }, 'update', 400, { checkServers: true });
      if (typeof zone === 'string') await setMetadata(deps.db, a.id, { [AZ_KEY]: zone }, now);
      await refreshHostZones(deps);
      times = { updatedAt: now };
    }
    return { status: 200, body: { aggregate: view(req, await loadAggregate(deps, ref), true, times) } };
  });
}

async function remove(deps: ComputeDeps, req: ComputeRequest): Promise<Reply> {
  authorize(deps, req, AGGREGATE_POLICY.delete, {});
  const ref = aggregateId(req);
  return aggregateWriter(deps.db).run(async () => {
    const a = await loadAggregate(deps, ref);
    if (a.hosts.length > 0) throw badRequest(invalidAction('remove', ref.raw, 'Host aggregate is not empty'));
    await deleteAggregate(deps.db, a.id);
    return { status: 200 };
  });
}

async function addHostAction(deps: ComputeDeps, req: ComputeRequest, host: string): Promise<Reply> {
  authorize(deps, req, AGGREGATE_POLICY.addHost, {});
  const ref = aggregateId(req);
  return aggregateWriter(deps.db).run(async () => {
    if (!(await isComputeHost(deps, host))) throw notFound(`Compute host ${host} could not be found.`);
    const a = await loadAggregate(deps, ref);
    await checkZoneChange(deps, a, a.metadata, 'add', 409, { hosts: [host] });
    await checkServersStay(deps, a, host, true);
    if (a.hosts.includes(host)) throw conflict(`Aggregate ${a.id} already has host ${host}.`);
    await addHost(deps.db, a.id, host, isoMicro(deps.clock.now()));
    await refreshHostZones(deps);
    return { status: 200, body: { aggregate: view(req, await loadAggregate(deps, ref), true) } };
  });
}

async function removeHostAction(deps: ComputeDeps, req: ComputeRequest, host: string): Promise<Reply> {
  authorize(deps, req, AGGREGATE_POLICY.removeHost, {});
  const ref = aggregateId(req);
  const missing = () => notFound(`Cannot remove host ${host} in aggregate ${ref.raw}`);
  return aggregateWriter(deps.db).run(async () => {
    if (!(await isComputeHost(deps, host))) throw missing();
    const a = await getAggregate(deps.db, ref.id);
    if (!a) throw missing();
    await checkServersStay(deps, a, host, false);
    if (!(await removeHost(deps.db, a.id, host))) throw missing();
    await refreshHostZones(deps);
    return { status: 200, body: { aggregate: view(req, await loadAggregate(deps, ref), true) } };
  });
}

async function setMetadataAction(deps: ComputeDeps, req: ComputeRequest, metadata: Record<string, string | null>): Promise<Reply> {
  authorize(deps, req, AGGREGATE_POLICY.setMetadata, {});
  const ref = aggregateId(req);
  return aggregateWriter(deps.db).run(async () => {
    const a = await loadAggregate(deps, ref);
    await checkZoneChange(deps, a, metadata, 'update_meta', 400, { checkServers: true });
    const now = isoMicro(deps.clock.now());
    await setMetadata(deps.db, a.id, metadata, now);
    await refreshHostZones(deps);
    return { status: 200, body: { aggregate: view(req, await loadAggregate(deps, ref), true, { updatedAt: now }) } };
  });
}

/** POST /os-aggregates/{id}/action: exactly one body key names the action. */
async function action(deps: ComputeDeps, req: ComputeRequest): Promise<Reply> {
  const body = req.body;
  if (body === null || typeof body !== 'object' || Array.isArray(body) || Object.keys(body).length !== 1) throw errors.malformedBody();
  const key = Object.keys(body)[0] ?? '';
  const schema = ACTION_BODIES[key];
  if (!schema) throw errors.noSuchAction(key);
  schema.check(body, req.mv);
  switch (key) {
    case 'add_host':
      return addHostAction(deps, req, (body as { add_host: { host: string } }).add_host.host);
    case 'remove_host':
      return removeHostAction(deps, req, (body as { remove_host: { host: string } }).remove_host.host);
    default:
      return setMetadataAction(deps, req, (body as { set_metadata: { metadata: Record<string, string | null> } }).set_metadata.metadata);
  }
}

/** 2.81: ask the aggregate's hosts to cache images. The images must exist; the simulated hosts have nothing to fetch. */
async function images(deps: ComputeDeps, req: ComputeRequest): Promise<Reply> {
  authorize(deps, req, AGGREGATE_POLICY.images, {});
  const ref = aggregateId(req);
  const ids = (req.body as { cache: { id: string }[] }).cache.map((c) => c.id);
  if (new Set(ids).size !== ids.length) throw badRequest('Duplicate images in request');
  await loadAggregate(deps, ref);
  for (const id of ids) {
    if (!(await deps.images.get(id, req.ctx.projectId, req.ctx.isAdmin))) throw badRequest(`Image ${id} could not be found.`);
  }
  return { status: 202 };
}

export function aggregateRoutes(deps: ComputeDeps): RouteDef[] {
  return [
    { method: 'GET', path: '/os-aggregates', query: strictFrom2102Query, handler: (req) => index(deps, req) },
    { method: 'POST', path: '/os-aggregates', body: createBody, handler: (req) => create(deps, req) },
    { method: 'GET', path: '/os-aggregates/:id', query: strictFrom2102Query, handler: (req) => show(deps, req) },
    { method: 'PUT', path: '/os-aggregates/:id', body: updateBody, handler: (req) => update(deps, req) },
    { method: 'DELETE', path: '/os-aggregates/:id', handler: (req) => remove(deps, req) },
    { method: 'POST', path: '/os-aggregates/:id/action', handler: (req) => action(deps, req) },
    { method: 'POST', path: '/os-aggregates/:id/images', min: '2.81', body: imagesBody, handler: (req) => images(deps, req) },
  ];
}
