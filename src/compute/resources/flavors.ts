import { randomUUID } from 'node:crypto';
import type { ComputeRequest, Reply, RouteDef } from '../../api/route.js';
import { badRequest, conflict, errors, notFound, type ApiError } from '../../errors.js';
import { isoMicro } from '../../lib/time.js';
import type { ComputeDeps } from '../deps.js';
import {
  allowed,
  authorize,
  boolFromString,
  checkName,
  checkRange,
  defaultTarget,
  hasParam,
  isValidDescription,
  lastParam,
  limitAndMarker,
  nextLinks,
  objectBody,
  pyInt,
  resourceLinks,
} from './common.js';
import { validateExtraSpec } from './extra-specs.js';
import { extraSpecsFor, flavorProjects, getFlavor, type Flavor } from './flavors-repo.js';
import {
  addTenantAccessBody,
  createExtraSpecsBody,
  createFlavorBody,
  flavorIndexQuery,
  MAX_INT,
  removeTenantAccessBody,
  SQL_SP_FLOAT_MAX,
  strictFrom2102Query,
  updateExtraSpecBody,
  updateFlavorBody,
} from './flavors.schema.js';
import type { FlavorRow } from './tables.js';
import type { Selectable } from 'kysely';

export const FLAVOR_POLICY = {
  create: 'os_compute_api:os-flavor-manage:create',
  update: 'os_compute_api:os-flavor-manage:update',
  delete: 'os_compute_api:os-flavor-manage:delete',
  specsIndex: 'os_compute_api:os-flavor-extra-specs:index',
  specsShow: 'os_compute_api:os-flavor-extra-specs:show',
  specsCreate: 'os_compute_api:os-flavor-extra-specs:create',
  specsUpdate: 'os_compute_api:os-flavor-extra-specs:update',
  specsDelete: 'os_compute_api:os-flavor-extra-specs:delete',
  access: 'os_compute_api:os-flavor-access',
  addAccess: 'os_compute_api:os-flavor-access:add_tenant_access',
  removeAccess: 'os_compute_api:os-flavor-access:remove_tenant_access',
} as const;

type Row = Selectable<FlavorRow>;

/** The brief flavor of GET /flavors. */
function basicView(req: ComputeRequest, f: Row): Record<string, unknown> {
  const out: Record<string, unknown> = { id: f.flavorid, name: f.name, links: resourceLinks(req, 'flavors', f.flavorid) };
  if (req.mv.ge('2.55')) out.description = f.description;
  return out;
}

/** The full flavor of show/detail/create/update. */
export function flavorView(req: ComputeRequest, f: Row, extraSpecs?: Record<string, string>): Record<string, unknown> {
  const out: Record<string, unknown> = {
    id: f.flavorid,
    name: f.name,
    ram: f.memory_mb,
    disk: f.root_gb,
    swap: req.mv.ge('2.75') ? f.swap : f.swap || '',
    'OS-FLV-EXT-DATA:ephemeral': f.ephemeral_gb,
    'OS-FLV-DISABLED:disabled': f.disabled === 1,
    vcpus: f.vcpus,
    'os-flavor-access:is_public': f.is_public === 1,
    rxtx_factor: f.rxtx_factor || '',
    links: resourceLinks(req, 'flavors', f.flavorid),
  };
  if (req.mv.ge('2.55')) out.description = f.description;
  if (extraSpecs !== undefined) out.extra_specs = extraSpecs;
  if (req.mv.ge('2.102')) {
    delete out['OS-FLV-DISABLED:disabled'];
    delete out.rxtx_factor;
  }
  return out;
}

/** From 2.61 the flavor shows its extra specs when the caller may list them. */
function showsExtraSpecs(deps: ComputeDeps, req: ComputeRequest): boolean {
  return req.mv.ge('2.61') && allowed(deps, req, FLAVOR_POLICY.specsIndex, defaultTarget(req));
}

async function flavorOr404(deps: ComputeDeps, req: ComputeRequest, flavorid: string): Promise<Flavor> {
  const f = await getFlavor(deps.db, flavorid, req.ctx);
  if (!f) throw errors.flavorNotFound(flavorid);
  return f;
}

// ---------------------------------------------------------------- listing

/** SQLite's order: NULL, then numbers, then text. */
function compareValues(a: unknown, b: unknown): number {
  const rank = (v: unknown) => (v === null || v === undefined ? 0 : typeof v === 'number' ? 1 : 2);
  const ra = rank(a);
  const rb = rank(b);
  if (ra !== rb) return ra - rb;
  if (ra === 0) return 0;
  if (ra === 1) return (a as number) - (b as number);
  const sa = String(a);
  const sb = String(b);
  return sa < sb ? -1 : sa > sb ? 1 : 0;
}

function sortValue(f: Row, key: string): unknown {
  if (key === 'vcpu_weight') return null;
  return (f as unknown as Record<string, unknown>)[key];
}

/** Nova's is_public filter for admins: absent = public only, `none` = all, else a strict boolean. */
function parseIsPublic(v: string | undefined): boolean | null {
  if (v === undefined) return true;
  if (v.toLowerCase() === 'none') return null;
  const b = boolFromString(v, true);
  if (b === null) throw badRequest(`Invalid is_public filter [${v}]`);
  return b;
}

function nameMatcher(pattern: string): (name: string) => boolean {
  try {
    const re = new RegExp(pattern);
    return (name) => re.test(name);
  } catch {
    return (name) => name.includes(pattern);
  }
}

async function listFlavors(deps: ComputeDeps, req: ComputeRequest): Promise<Row[]> {
  const q = req.query;
  const sortKey = lastParam(q, 'sort_key') || 'flavorid';
  const sortDir = lastParam(q, 'sort_dir') || 'asc';
  const { limit, marker } = limitAndMarker(q, deps.config.compute.max_limit);
  const { ctx } = req;

  let isPublic: boolean | null = true;
  let disabled: boolean | undefined;
  if (ctx.isAdmin) {
    isPublic = parseIsPublic(lastParam(q, 'is_public'));
  } else {
    disabled = false;
  }
  let minRam: number | undefined;
  let minDisk: number | undefined;
  if (hasParam(q, 'minRam')) {
    const v = lastParam(q, 'minRam') ?? '';
    const n = pyInt(v);
    if (n === null) throw badRequest(`Invalid minRam filter [${v}]`);
    minRam = n;
  }
  if (hasParam(q, 'minDisk')) {
    const v = lastParam(q, 'minDisk') ?? '';
    const n = pyInt(v);
    if (n === null) throw badRequest(`Invalid minDisk filter [${v}]`);
    minDisk = n;
  }
  const nameFilter = hasParam(q, 'name') ? nameMatcher(lastParam(q, 'name') ?? '') : undefined;

  const all = await deps.db.selectFrom('flavors').selectAll().execute();
  const shared = new Set<string>();
  if (ctx.projectId !== null) {
    const rows = await deps.db.selectFrom('flavor_projects').select('flavorid').where('project_id', '=', ctx.projectId).execute();
    for (const r of rows) shared.add(r.flavorid);
  }
  const visible = ctx.isAdmin ? all : all.filter((f) => f.is_public === 1 || shared.has(f.flavorid));

  let rows = visible.filter((f) => {
    if (minRam !== undefined && f.memory_mb < minRam) return false;
    if (minDisk !== undefined && f.root_gb < minDisk) return false;
    if (disabled !== undefined && (f.disabled === 1) !== disabled) return false;
    if (nameFilter && !nameFilter(f.name)) return false;
    if (isPublic !== null) {
      const match = (f.is_public === 1) === isPublic || (isPublic && ctx.projectId !== null && shared.has(f.flavorid));
      if (!match) return false;
    }
    return true;
  });

  const dir = sortDir === 'desc' ? -1 : 1;
  const cmp = (a: Row, b: Row) => dir * (compareValues(sortValue(a, sortKey), sortValue(b, sortKey)) || a.id - b.id);
  rows.sort(cmp);
  if (marker !== undefined) {
    const m = visible.find((f) => f.flavorid === marker);
    if (!m) throw badRequest(`marker [${marker}] not found`);
    rows = rows.filter((f) => cmp(f, m) > 0);
  }
  return rows.slice(0, limit);
}

async function indexFlavors(deps: ComputeDeps, req: ComputeRequest, detail: boolean): Promise<Reply> {
  const rows = await listFlavors(deps, req);
  let flavors: Record<string, unknown>[];
  if (detail) {
    const specs = showsExtraSpecs(deps, req) ? await extraSpecsFor(deps.db, rows.map((f) => f.flavorid)) : undefined;
    flavors = rows.map((f) => flavorView(req, f, specs?.get(f.flavorid)));
  } else {
    flavors = rows.map((f) => basicView(req, f));
  }
  const body: Record<string, unknown> = { flavors };
  const links = nextLinks(req, deps.config.compute.max_limit, rows.length, rows[rows.length - 1]?.flavorid, detail ? 'flavors/detail' : 'flavors');
  if (links.length) body.flavors_links = links;
  return { status: 200, body };
}

// ---------------------------------------------------------------- manage

const intField = (field: string, value: unknown, min: number, fallback: number): number => {
  if (value === undefined) return fallback;
  checkRange(field, value, min, MAX_INT);
  return typeof value === 'number' ? value : Number(value);
};

function isUniqueViolation(err: unknown): boolean {
  return err instanceof Error && /UNIQUE constraint failed|duplicate key/i.test(err.message);
}

async function createFlavor(deps: ComputeDeps, req: ComputeRequest): Promise<Reply> {
  authorize(deps, req, FLAVOR_POLICY.create, {});
  const vals = (objectBody(req.body).flavor ?? {}) as Record<string, unknown>;
  const name = String(vals.name);
  checkName(name);
  const description = req.mv.ge('2.55') ? ((vals.description as string | null | undefined) ?? null) : null;
  if (description !== null && !isValidDescription(description)) {
    throw badRequest(`Invalid input for field/attribute description. Value: ${description}. '${description}' is not a valid description`);
  }
  const rawId = vals.id;
  const flavorid = rawId === undefined || rawId === null || rawId === '' || rawId === 0 ? randomUUID() : String(rawId);
  const memory = intField('ram', vals.ram, 1, 0);
  const vcpus = intField('vcpus', vals.vcpus, 1, 0);
  const rootGb = intField('disk', vals.disk, 0, 0);
  const ephemeral = intField('OS-FLV-EXT-DATA:ephemeral', vals['OS-FLV-EXT-DATA:ephemeral'], 0, 0);
  const swap = intField('swap', vals.swap, 0, 0);
  const rxtx = vals.rxtx_factor === undefined ? 1.0 : Number(vals.rxtx_factor);
  if (!(rxtx > 0 && rxtx <= SQL_SP_FLOAT_MAX)) {
    throw badRequest("Invalid input received: 'rxtx_factor' argument must be a float between 0 and 3.40282e+38");
  }
  const isPublicRaw = vals['os-flavor-access:is_public'];
  const isPublic = isPublicRaw === undefined ? true : boolFromString(isPublicRaw, true);
  if (isPublic === null) throw badRequest('Invalid input received: is_public must be a boolean');

  const db = deps.db;
  const exists = async () => {
    if (await db.selectFrom('flavors').select('id').where('flavorid', '=', flavorid).executeTakeFirst()) {
      throw conflict(`Flavor with ID ${flavorid} already exists.`);
    }
    if (await db.selectFrom('flavors').select('id').where('name', '=', name).executeTakeFirst()) {
      throw conflict(`Flavor with name ${name} already exists.`);
    }
  };
  await exists();
  try {
    await db
      .insertInto('flavors')
      .values({
        flavorid,
        name,
        vcpus,
        memory_mb: memory,
        root_gb: rootGb,
        ephemeral_gb: ephemeral,
        swap,
        rxtx_factor: rxtx,
        is_public: isPublic ? 1 : 0,
        disabled: 0,
        description,
        created_at: isoMicro(deps.clock.now()),
        updated_at: null,
      })
      .execute();
  } catch (err) {
    if (isUniqueViolation(err)) await exists();
    throw err;
  }
  const row = await db.selectFrom('flavors').selectAll().where('flavorid', '=', flavorid).executeTakeFirstOrThrow();
  return { status: 200, body: { flavor: flavorView(req, row, showsExtraSpecs(deps, req) ? {} : undefined) } };
}

async function updateFlavor(deps: ComputeDeps, req: ComputeRequest): Promise<Reply> {
  authorize(deps, req, FLAVOR_POLICY.update, {});
  const id = req.params.id ?? '';
  const flavor = await flavorOr404(deps, req, id);
  const desc = ((objectBody(req.body).flavor ?? {}) as Record<string, unknown>).description as string | null;
  if (desc !== null && !isValidDescription(desc)) {
    throw badRequest(`Invalid input for field/attribute description. Value: ${desc}. '${desc}' is not a valid description`);
  }
  await deps.db
    .updateTable('flavors')
    .set({ description: desc, updated_at: isoMicro(deps.clock.now()) })
    .where('flavorid', '=', id)
    .execute();
  const row = await deps.db.selectFrom('flavors').selectAll().where('flavorid', '=', id).executeTakeFirstOrThrow();
  return { status: 200, body: { flavor: flavorView(req, row, showsExtraSpecs(deps, req) ? flavor.extra_specs : undefined) } };
}

async function deleteFlavor(deps: ComputeDeps, req: ComputeRequest): Promise<Reply> {
  authorize(deps, req, FLAVOR_POLICY.delete, {});
  const id = req.params.id ?? '';
  const done = await deps.db.transaction().execute(async (tx) => {
    const res = await tx.deleteFrom('flavors').where('flavorid', '=', id).executeTakeFirst();
    if (Number(res.numDeletedRows) === 0) return false;
    await tx.deleteFrom('flavor_extra_specs').where('flavorid', '=', id).execute();
    await tx.deleteFrom('flavor_projects').where('flavorid', '=', id).execute();
    return true;
  });
  if (!done) throw errors.flavorNotFound(id);
  return { status: 202 };
}

// ---------------------------------------------------------------- extra specs

function checkSpecValues(req: ComputeRequest, specs: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(specs)) {
    const value = String(v);
    if (typeof v === 'number' && value.length > 255) {
      throw badRequest('Invalid input received: extra_specs value has more than 255 characters.');
    }
    if (req.mv.ge('2.86')) validateExtraSpec(k, value);
    out[k] = value;
  }
  return out;
}

async function upsertSpecs(deps: ComputeDeps, flavorid: string, specs: Record<string, string>): Promise<void> {
  await deps.db.transaction().execute(async (tx) => {
    for (const [key, value] of Object.entries(specs)) {
      await tx
        .insertInto('flavor_extra_specs')
        .values({ flavorid, key, value })
        .onConflict((oc) => oc.columns(['flavorid', 'key']).doUpdateSet({ value }))
        .execute();
    }
  });
}

const noSuchSpec = (flavorid: string, key: string): ApiError => notFound(`Flavor ${flavorid} has no extra specs with key ${key}.`);

function specRoutes(deps: ComputeDeps): RouteDef[] {
  const base = '/flavors/:id/os-extra_specs';
  return [
    {
      method: 'GET',
      path: base,
      query: strictFrom2102Query,
      handler: async (req) => {
        authorize(deps, req, FLAVOR_POLICY.specsIndex, { project_id: req.ctx.projectId });
        const f = await flavorOr404(deps, req, req.params.id ?? '');
        return { status: 200, body: { extra_specs: f.extra_specs } };
      },
    },
    {
      method: 'POST',
      path: base,
      body: createExtraSpecsBody,
      handler: async (req) => {
        authorize(deps, req, FLAVOR_POLICY.specsCreate, {});
        const body = objectBody(req.body);
        const specs = checkSpecValues(req, (body.extra_specs ?? {}) as Record<string, unknown>);
        const f = await flavorOr404(deps, req, req.params.id ?? '');
        await upsertSpecs(deps, f.flavorid, specs);
        return { status: 200, body };
      },
    },
    {
      method: 'GET',
      path: `${base}/:key`,
      query: strictFrom2102Query,
      handler: async (req) => {
        authorize(deps, req, FLAVOR_POLICY.specsShow, { project_id: req.ctx.projectId });
        const flavorid = req.params.id ?? '';
        const key = req.params.key ?? '';
        const f = await flavorOr404(deps, req, flavorid);
        const value = f.extra_specs[key];
        if (value === undefined) throw noSuchSpec(flavorid, key);
        return { status: 200, body: { [key]: value } };
      },
    },
    {
      method: 'PUT',
      path: `${base}/:key`,
      body: updateExtraSpecBody,
      handler: async (req) => {
        authorize(deps, req, FLAVOR_POLICY.specsUpdate, {});
        const body = objectBody(req.body);
        const specs = checkSpecValues(req, body);
        const key = req.params.key ?? '';
        if (!(key in body)) throw badRequest('Request body and URI mismatch');
        const f = await flavorOr404(deps, req, req.params.id ?? '');
        await upsertSpecs(deps, f.flavorid, specs);
        return { status: 200, body };
      },
    },
    {
      method: 'DELETE',
      path: `${base}/:key`,
      handler: async (req) => {
        authorize(deps, req, FLAVOR_POLICY.specsDelete, {});
        const flavorid = req.params.id ?? '';
        const key = req.params.key ?? '';
        const f = await flavorOr404(deps, req, flavorid);
        const res = await deps.db.deleteFrom('flavor_extra_specs').where('flavorid', '=', f.flavorid).where('key', '=', key).executeTakeFirst();
        if (Number(res.numDeletedRows) === 0) throw noSuchSpec(flavorid, key);
        return { status: 200 };
      },
    },
  ];
}

// ---------------------------------------------------------------- access

async function accessList(deps: ComputeDeps, flavorid: string): Promise<Reply> {
  const projects = await flavorProjects(deps.db, flavorid);
  return { status: 200, body: { flavor_access: projects.map((p) => ({ flavor_id: flavorid, tenant_id: p })) } };
}

async function flavorAction(deps: ComputeDeps, req: ComputeRequest): Promise<Reply> {
  const body = objectBody(req.body);
  const keys = Object.keys(body);
  if (keys.length !== 1) throw errors.malformedBody();
  const action = keys[0] ?? '';
  const id = req.params.id ?? '';
  if (action === 'addTenantAccess') {
    addTenantAccessBody.check(body, req.mv);
    authorize(deps, req, FLAVOR_POLICY.addAccess, {});
    const tenant = String((body.addTenantAccess as Record<string, unknown>).tenant);
    const f = await flavorOr404(deps, req, id);
    if (req.mv.ge('2.7') && f.is_public === 1) throw conflict('Can not add access to a public flavor.');
    try {
      await deps.db.insertInto('flavor_projects').values({ flavorid: f.flavorid, project_id: tenant }).execute();
    } catch (err) {
      if (isUniqueViolation(err)) {
        throw conflict(`Flavor access already exists for flavor ${f.flavorid} and project ${tenant} combination.`);
      }
      throw err;
    }
    return accessList(deps, f.flavorid);
  }
  if (action === 'removeTenantAccess') {
    removeTenantAccessBody.check(body, req.mv);
    authorize(deps, req, FLAVOR_POLICY.removeAccess, {});
    const tenant = String((body.removeTenantAccess as Record<string, unknown>).tenant);
    const f = await flavorOr404(deps, req, id);
    const res = await deps.db.deleteFrom('flavor_projects').where('flavorid', '=', f.flavorid).where('project_id', '=', tenant).executeTakeFirst();
    if (Number(res.numDeletedRows) === 0) throw notFound(`Flavor access not found for ${f.flavorid} / ${tenant} combination.`);
    return accessList(deps, f.flavorid);
  }
  throw errors.noSuchAction(action);
}

/** Flavors, their extra specs and their access lists. */
export function flavorRoutes(deps: ComputeDeps): RouteDef[] {
  return [
    { method: 'GET', path: '/flavors', query: flavorIndexQuery, handler: (req) => indexFlavors(deps, req, false) },
    { method: 'GET', path: '/flavors/detail', query: flavorIndexQuery, handler: (req) => indexFlavors(deps, req, true) },
    { method: 'POST', path: '/flavors', body: createFlavorBody, handler: (req) => createFlavor(deps, req) },
    {
      method: 'GET',
      path: '/flavors/:id',
      query: strictFrom2102Query,
      handler: async (req) => {
        const f = await flavorOr404(deps, req, req.params.id ?? '');
        return { status: 200, body: { flavor: flavorView(req, f, showsExtraSpecs(deps, req) ? f.extra_specs : undefined) } };
      },
    },
    { method: 'PUT', path: '/flavors/:id', min: '2.55', body: updateFlavorBody, handler: (req) => updateFlavor(deps, req) },
    { method: 'DELETE', path: '/flavors/:id', handler: (req) => deleteFlavor(deps, req) },
    { method: 'POST', path: '/flavors/:id/action', handler: (req) => flavorAction(deps, req) },
    {
      method: 'GET',
      path: '/flavors/:id/os-flavor-access',
      query: strictFrom2102Query,
      handler: async (req) => {
        authorize(deps, req, FLAVOR_POLICY.access, defaultTarget(req));
        const f = await flavorOr404(deps, req, req.params.id ?? '');
        if (f.is_public === 1) throw notFound('Access list not available for public flavors.');
        return accessList(deps, f.flavorid);
      },
    },
    ...specRoutes(deps),
  ];
}
