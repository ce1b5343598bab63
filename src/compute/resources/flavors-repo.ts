import type { Selectable } from 'kysely';
import type { Db } from '../../db/index.js';
import type { FlavorRow } from './tables.js';

/** Who is asking, for flavor access: admins see every flavor, others public ones and those shared with their project. */
export interface FlavorAccessContext {
  projectId: string | null;
  isAdmin: boolean;
}

/** A flavor as stored, with its extra specs. */
export interface Flavor extends Selectable<FlavorRow> {
  extra_specs: Record<string, string>;
}

/**
 * What an instance keeps of its flavor at boot (the `flavor` JSON column):
 * enough to render the server's flavor at every microversion and to count
 * quota usage (`vcpus`, `memory_mb`) after the flavor is deleted.
 */
export interface FlavorSnapshot {
  /** The API id, for `flavor: {id, links}` below 2.47. */
  flavorid: string;
  /** `original_name` from 2.47. */
  name: string;
  vcpus: number;
  memory_mb: number;
  root_gb: number;
  ephemeral_gb: number;
  swap: number;
  rxtx_factor: number;
  is_public: boolean;
  disabled: boolean;
  description: string | null;
  extra_specs: Record<string, string>;
}

/** Nova's get_id_from_href: the last path segment of a URL, or the value itself. */
export function idFromHref(ref: string | number): string {
  const s = String(ref);
  if (!s.includes('/')) return s;
  let path: string;
  try {
    path = new URL(s).pathname;
  } catch {
    path = s.split('?')[0] ?? s;
  }
  return path.split('/').pop() ?? '';
}

export async function extraSpecsOf(db: Db, flavorid: string): Promise<Record<string, string>> {
  const rows = await db.selectFrom('flavor_extra_specs').select(['key', 'value']).where('flavorid', '=', flavorid).execute();
  const out: Record<string, string> = {};
  for (const r of rows.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))) out[r.key] = r.value;
  return out;
}

/** Extra specs of several flavors at once: flavorid -> specs (every id present). */
export async function extraSpecsFor(db: Db, flavorids: string[]): Promise<Map<string, Record<string, string>>> {
  const out = new Map<string, Record<string, string>>(flavorids.map((id) => [id, {}]));
  if (flavorids.length === 0) return out;
  const rows = await db.selectFrom('flavor_extra_specs').select(['flavorid', 'key', 'value']).where('flavorid', 'in', flavorids).orderBy('key').execute();
  for (const r of rows) {
    const specs = out.get(r.flavorid);
    if (specs) specs[r.key] = r.value;
  }
  return out;
}

/** Projects a non-public flavor is shared with. */
export async function flavorProjects(db: Db, flavorid: string): Promise<string[]> {
  const rows = await db.selectFrom('flavor_projects').select('project_id').where('flavorid', '=', flavorid).orderBy('project_id').execute();
  return rows.map((r) => r.project_id);
}

/** True when `ctx` may see the flavor: admin, public, or shared with the caller's project. */
export async function canSeeFlavor(db: Db, row: Pick<FlavorRow, 'flavorid' | 'is_public'>, ctx: FlavorAccessContext): Promise<boolean> {
  if (ctx.isAdmin || row.is_public) return true;
  if (ctx.projectId === null) return false;
  const hit = await db
    .selectFrom('flavor_projects')
    .select('project_id')
    .where('flavorid', '=', row.flavorid)
    .where('project_id', '=', ctx.projectId)
    .executeTakeFirst();
  return hit !== undefined;
}

/** The flavor with this API id if `ctx` may see it (Nova's get_flavor_by_flavor_id), else null. */
export async function getFlavor(db: Db, flavorid: string, ctx: FlavorAccessContext): Promise<Flavor | null> {
  const row = await db.selectFrom('flavors').selectAll().where('flavorid', '=', flavorid).executeTakeFirst();
  if (!row || !(await canSeeFlavor(db, row, ctx))) return null;
  return { ...row, extra_specs: await extraSpecsOf(db, flavorid) };
}

/**
 * Resolves a server's `flavorRef` (an id, or a URL ending in one) to the
 * flavor and its extra specs, honouring access: non-public flavors only for
 * admins or projects they are shared with. Null when absent or not visible.
 * Disabled flavors are returned (the caller decides).
 */
export async function findFlavor(db: Db, flavorRef: string | number, ctx: FlavorAccessContext): Promise<Flavor | null> {
  const id = idFromHref(flavorRef);
  if (id === '') return null;
  return getFlavor(db, id, ctx);
}

/** The snapshot an instance stores in its `flavor` column (JSON.stringify it). */
export function flavorSnapshot(flavor: Flavor): FlavorSnapshot {
  return {
    flavorid: flavor.flavorid,
    name: flavor.name,
    vcpus: flavor.vcpus,
    memory_mb: flavor.memory_mb,
    root_gb: flavor.root_gb,
    ephemeral_gb: flavor.ephemeral_gb,
    swap: flavor.swap,
    rxtx_factor: flavor.rxtx_factor,
    is_public: flavor.is_public === 1,
    disabled: flavor.disabled === 1,
    description: flavor.description,
    extra_specs: { ...flavor.extra_specs },
  };
}
