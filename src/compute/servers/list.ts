import type { ExpressionBuilder, SelectQueryBuilder } from 'kysely';
import type { ComputeRequest, Query, Reply } from '../../api/route.js';
import { badRequest, forbidden } from '../../errors.js';
import { parseIsoTime, isoMicro } from '../../lib/time.js';
import type { Database } from '../../db/schema.js';
import type { ComputeDeps } from '../deps.js';
import { limitAndMarker, nextLinks } from '../resources/common.js';
import { VmState, statesForStatuses } from '../states.js';
import { authorize, allowed, renderServers, SERVER_KEY_COLUMNS, type ServerKey } from './common.js';
import { SP } from './policies.js';
import type { Instance } from './repo.js';
import { serverSummary } from './view.js';

/** Sort keys Nova accepted before strict validation but ignores. */
const IGNORED_SORT_KEYS = [
  'architecture', 'cell_name', 'cleaned', 'default_ephemeral_device', 'default_swap_device', 'deleted', 'deleted_at',
  'disable_terminate', 'ephemeral_gb', 'ephemeral_key_uuid', 'id', 'key_data', 'launched_on', 'locked', 'memory_mb',
  'os_type', 'reservation_id', 'root_gb', 'shutdown_terminate', 'user_data', 'vcpus', 'vm_mode',
];

/** API sort key -> instances column. */
const SORT_COLUMNS: Record<string, keyof Instance> = {
  access_ip_v4: 'access_ip_v4',
  access_ip_v6: 'access_ip_v6',
  auto_disk_config: 'disk_config',
  availability_zone: 'availability_zone',
  config_drive: 'config_drive',
  created_at: 'created_at',
  display_description: 'display_description',
  display_name: 'display_name',
  host: 'host',
  hostname: 'hostname',
  image_ref: 'image_ref',
  instance_type_id: 'flavor_id',
  kernel_id: 'kernel_id',
  key_name: 'key_name',
  launch_index: 'launch_index',
  launched_at: 'launched_at',
  locked_by: 'locked_by',
  node: 'node',
  power_state: 'power_state',
  progress: 'progress',
  project_id: 'project_id',
  ramdisk_id: 'ramdisk_id',
  root_device_name: 'root_device_name',
  task_state: 'task_state',
  terminated_at: 'terminated_at',
  updated_at: 'updated_at',
  user_id: 'user_id',
  uuid: 'uuid',
  vm_state: 'vm_state',
};

/** Query parameters the list accepts (Nova's index_query). */
const KNOWN = new Set([
  'user_id', 'project_id', 'tenant_id', 'launch_index', 'image_ref', 'image', 'kernel_id', 'ramdisk_id', 'hostname',
  'key_name', 'power_state', 'vm_state', 'task_state', 'host', 'node', 'flavor', 'reservation_id', 'launched_at',
  'terminated_at', 'availability_zone', 'name', 'display_name', 'description', 'display_description', 'locked_by', 'uuid',
  'root_device_name', 'config_drive', 'access_ip_v4', 'access_ip_v6', 'auto_disk_config', 'progress', 'sort_key', 'sort_dir',
  'all_tenants', 'soft_deleted', 'deleted', 'status', 'changes-since', 'ip', 'ip6', 'created_at', 'limit', 'marker',
  'block_device_mapping', 'services', 'metadata', 'system_metadata', 'info_cache', 'security_groups', 'pci_devices',
]);
const JOINED = new Set(['block_device_mapping', 'services', 'metadata', 'system_metadata', 'info_cache', 'security_groups', 'pci_devices']);
const TAG_FILTERS = ['tags', 'tags-any', 'not-tags', 'not-tags-any'];

/** Filters a caller without allow_all_filters may use, by microversion. */
function userFilters(req: ComputeRequest): Set<string> {
  const s = new Set(['reservation_id', 'name', 'status', 'image', 'flavor', 'ip', 'changes-since', 'all_tenants']);
  const add = (min: string, keys: string[]) => {
    if (req.mv.ge(min)) keys.forEach((k) => s.add(k));
  };
  add('2.5', ['ip6']);
  add('2.26', TAG_FILTERS);
  add('2.66', ['changes-before']);
  add('2.73', ['locked']);
  add('2.83', ['availability_zone', 'config_drive', 'key_name', 'created_at', 'launched_at', 'terminated_at', 'power_state', 'task_state', 'vm_state', 'progress', 'user_id']);
  add('2.90', ['hostname']);
  return s;
}

const values = (q: Query, key: string): string[] => {
  const v = q[key];
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
};
const last = (q: Query, key: string): string | undefined => values(q, key).at(-1);

const TRUE = new Set(['1', 't', 'true', 'on', 'y', 'yes']);
const FALSE = new Set(['0', 'f', 'false', 'off', 'n', 'no']);
function strictBool(v: string, name: string): boolean {
  const l = v.trim().toLowerCase();
  if (TRUE.has(l)) return true;
  if (FALSE.has(l)) return false;
  throw badRequest(`Invalid value '${v}' for ${name}: Unrecognized value '${v}', acceptable values are: '0', '1', 'f', 'false', 'n', 'no', 'off', 'on', 't', 'true', 'y', 'yes'`);
}

function validateQuery(req: ComputeRequest): void {
  const q = req.query;
  const known = new Set(KNOWN);
  if (req.mv.ge('2.26')) TAG_FILTERS.forEach((k) => known.add(k));
  if (req.mv.ge('2.66')) known.add('changes-before');
  if (req.mv.ge('2.73')) known.add('locked');
  for (const key of Object.keys(q)) {
    if (req.mv.ge('2.75') && !known.has(key) && !key.startsWith('_')) {
      throw badRequest(`Additional properties are not allowed ('${key}' was unexpected)`);
    }
  }
  for (const v of values(q, 'limit')) {
    if (!/^[0-9]+$/.test(v)) throw badRequest(`Invalid input for query parameters limit. Value: ${v}. '${v}' does not match '^[0-9]*$'`);
  }
  const sortKeys = new Set(Object.keys(SORT_COLUMNS));
  if (req.mv.ge('2.73')) sortKeys.add('locked');
  if (req.mv.lt('2.75')) IGNORED_SORT_KEYS.forEach((k) => sortKeys.add(k));
  for (const v of values(q, 'sort_key')) {
    if (!sortKeys.has(v.trim())) throw badRequest(`Invalid input for query parameters sort_key. Value: ${v}. '${v}' is not one of [${[...sortKeys].map((k) => `'${k}'`).join(', ')}]`);
  }
  for (const key of ['changes-since', ...(req.mv.ge('2.66') ? ['changes-before'] : [])]) {
    for (const v of values(q, key)) {
      if (parseIsoTime(v) === null) throw badRequest(`Invalid input for query parameters ${key}. Value: ${v}. '${v}' is not a 'date-time'`);
    }
  }
  for (const key of ['name', 'ip', 'ip6', 'display_name', 'hostname', 'node', 'description', 'display_description']) {
    for (const v of values(q, key)) {
      try {
        new RegExp(v);
      } catch {
        throw badRequest(`Invalid input for query parameters ${key}. Value: ${v}. '${v}' is not a 'regex'`);
      }
    }
  }
}

type Qb = SelectQueryBuilder<Database, 'instances', Instance>;

/** GET /servers and /servers/detail. */
export async function listServers(deps: ComputeDeps, req: ComputeRequest, detail: boolean): Promise<Reply> {
  const { ctx, mv } = req;
  const selfTarget = { project_id: ctx.projectId, user_id: ctx.userId };
  authorize(deps, req, detail ? SP.detail : SP.index, selfTarget);
  validateQuery(req);

  const q: Query = { ...req.query };
  const paging = { sort_key: q.sort_key, sort_dir: q.sort_dir, limit: q.limit, marker: q.marker };
  for (const k of Object.keys(paging)) delete q[k];
  if (!allowed(deps, req, SP.allowAllFilters, selfTarget)) {
    const ok = userFilters(req);
    for (const k of Object.keys(q)) if (!ok.has(k)) delete q[k];
  }
  for (const k of Object.keys(q)) {
    if (JOINED.has(k) || k.startsWith('_')) throw badRequest(`Invalid filter field: ${k}.`);
  }

  let vmStates: string[] | undefined = values(q, 'vm_state').length > 0 ? values(q, 'vm_state') : undefined;
  let taskStates: (string | null)[] | undefined = values(q, 'task_state').length > 0 ? values(q, 'task_state') : undefined;
  if (values(req.query, 'status').length > 0 && q.status !== undefined) {
    const st = statesForStatuses(values(q, 'status'));
    if (st.vmStates.length === 0 && st.taskStates.length === 0) {
      if (mv.ge('2.38')) throw badRequest('Invalid status value');
      return { status: 200, body: detail ? { servers: [] } : { servers: [] } };
    }
    vmStates = st.vmStates;
    taskStates = st.anyTask ? undefined : st.taskStates;
  }

  const since = last(q, 'changes-since');
  const before = last(q, 'changes-before');
  const sinceT = since !== undefined ? parseIsoTime(since) : null;
  const beforeT = before !== undefined ? parseIsoTime(before) : null;
  if (sinceT && beforeT && beforeT < sinceT) throw badRequest('The value of changes-since must be less than or equal to changes-before.');

  let deleted: boolean | undefined;
  const deletedParam = last(q, 'deleted');
  if (deletedParam !== undefined) deleted = TRUE.has(deletedParam.toLowerCase());
  else if (since === undefined && before === undefined) deleted = false;
  if (vmStates && vmStates.length === 1 && vmStates[0] === VmState.DELETED) {
    if (!ctx.isAdmin) throw forbidden('Only administrators may list deleted instances');
    deleted = true;
  }

  const allTenantsParam = q.all_tenants;
  const allTenants = allTenantsParam !== undefined && (last(q, 'all_tenants') === '' || strictBool(last(q, 'all_tenants') ?? '', 'all_tenants'));
  if (allTenants) authorize(deps, req, detail ? SP.detailAllTenants : SP.indexAllTenants, selfTarget);

  let locked: boolean | undefined;
  if (q.locked !== undefined) locked = strictBool(last(q, 'locked') ?? '', 'locked');

  // Sorting.
  const rawKeys = values(paging as Query, 'sort_key').map((k) => k.trim());
  const rawDirs = values(paging as Query, 'sort_dir').map((d) => d.trim());
  const ignored = new Set(mv.ge('2.73') ? IGNORED_SORT_KEYS.filter((k) => k !== 'locked') : IGNORED_SORT_KEYS);
  const keys: string[] = [];
  const dirs: string[] = [];
  rawKeys.forEach((k, i) => {
    if (ignored.has(k)) return;
    if ((k === 'host' || k === 'node') && !ctx.isAdmin) throw forbidden(`Only administrators can sort servers by ${k}`);
    keys.push(k);
    if (rawDirs[i] !== undefined) dirs.push(rawDirs[i]);
  });
  if (keys.length === 0 && rawKeys.length === 0) keys.push('created_at');
  const defaultDir = rawDirs[0] ?? 'desc';
  for (const d of rawDirs) if (d !== 'asc' && d !== 'desc') throw badRequest('Unknown sort direction, must be \'desc\' or \'asc\'');
  const order: [keyof Instance, 'asc' | 'desc'][] = keys.map((k, i) => [
    k === 'locked' ? 'locked' : (SORT_COLUMNS[k] ?? 'created_at'),
    (dirs[i] ?? (dirs.length > 0 ? dirs.at(-1) : defaultDir) ?? 'desc') as 'asc' | 'desc',
  ]);
  if (!order.some(([c]) => c === 'created_at')) order.push(['created_at', order[0]?.[1] ?? 'desc']);
  order.push(['id', order[0]?.[1] ?? 'desc']);

  const { limit, marker } = limitAndMarker(paging as Query, deps.config.compute.max_limit);

  const project = allTenants ? (last(q, 'project_id') ?? last(q, 'tenant_id')) : (ctx.projectId ?? undefined);
  const filter = (qb: Qb): Qb => {
    let b = qb;
    if (project !== undefined) b = b.where('project_id', '=', project);
    else if (!allTenants) b = b.where('user_id', '=', ctx.userId);
    if (deleted === true) b = b.where((eb) => eb.or([eb('deleted', '!=', 0), eb('vm_state', '=', VmState.SOFT_DELETED)]));
    else if (deleted === false) {
      b = b.where('deleted', '=', 0);
      const softOk = (last(q, 'soft_deleted') !== undefined && TRUE.has((last(q, 'soft_deleted') ?? '').toLowerCase())) || vmStates?.includes(VmState.SOFT_DELETED);
      if (!softOk) b = b.where('vm_state', '!=', VmState.SOFT_DELETED);
    }
    if (vmStates) b = b.where('vm_state', 'in', vmStates);
    if (taskStates) {
      const ts = taskStates;
      b = b.where((eb) => (ts.length === 0 ? eb.val(false) : eb('task_state', 'in', ts.filter((t): t is string => t !== null))));
    }
    if (sinceT) b = b.where('updated_at', '>=', isoMicro(sinceT.getTime()));
    if (beforeT) b = b.where('updated_at', '<=', isoMicro(beforeT.getTime()));
    if (locked !== undefined) b = b.where('locked', '=', locked ? 1 : 0);
    const exact: [string, keyof Instance][] = [
      ['user_id', 'user_id'], ['uuid', 'uuid'], ['image', 'image_ref'], ['image_ref', 'image_ref'], ['host', 'host'], ['flavor', 'flavor_id'],
    ];
    for (const [param, col] of exact) {
      const v = last(q, param);
      if (v !== undefined) b = b.where(col, '=', v);
    }
    const regex: [string, keyof Instance][] = [
      ['name', 'display_name'], ['display_name', 'display_name'], ['description', 'display_description'], ['display_description', 'display_description'],
      ['reservation_id', 'reservation_id'], ['hostname', 'hostname'], ['node', 'node'], ['key_name', 'key_name'],
      ['availability_zone', 'availability_zone'], ['config_drive', 'config_drive'], ['access_ip_v4', 'access_ip_v4'],
      ['access_ip_v6', 'access_ip_v6'], ['kernel_id', 'kernel_id'], ['ramdisk_id', 'ramdisk_id'], ['root_device_name', 'root_device_name'],
      ['locked_by', 'locked_by'], ['launched_at', 'launched_at'], ['terminated_at', 'terminated_at'], ['created_at', 'created_at'],
      ['progress', 'progress'], ['launch_index', 'launch_index'], ['power_state', 'power_state'],
    ];
    for (const [param, col] of regex) {
      const v = last(q, param);
      if (v !== undefined) b = b.where(col, 'regexp' as never, v);
    }
    const adc = last(q, 'auto_disk_config');
    if (adc !== undefined) b = b.where('disk_config', '=', TRUE.has(adc.toLowerCase()) ? 'AUTO' : 'MANUAL');
    const ip = last(q, 'ip');
    if (ip !== undefined) b = b.where('uuid', 'in', (eb: ExpressionBuilder<Database, 'instances'>) => eb.selectFrom('ports').select('instance_uuid').where('fixed_ip_v4', 'regexp' as never, ip) as never);
    const ip6 = last(q, 'ip6');
    if (ip6 !== undefined) b = b.where('uuid', 'in', (eb: ExpressionBuilder<Database, 'instances'>) => eb.selectFrom('ports').select('instance_uuid').where('fixed_ip_v6', 'regexp' as never, ip6) as never);
    if (mv.ge('2.26')) {
      const list = (k: string) => (last(q, k) ?? '').split(',').map((t) => t.trim()).filter((t) => t !== '');
      const sub = (eb: ExpressionBuilder<Database, 'instances'>, tags: string[]) =>
        eb.selectFrom('instance_tags').select('instance_uuid').where('tag', 'in', tags);
      if (q.tags !== undefined) for (const t of list('tags')) b = b.where('uuid', 'in', (eb) => sub(eb, [t]));
      if (q['tags-any'] !== undefined && list('tags-any').length > 0) b = b.where('uuid', 'in', (eb) => sub(eb, list('tags-any')));
      if (q['not-tags'] !== undefined && list('not-tags').length > 0) {
        const nt = list('not-tags');
        b = b.where((eb) => eb.not(eb.and(nt.map((t) => eb('uuid', 'in', sub(eb, [t]))))));
      }
      if (q['not-tags-any'] !== undefined && list('not-tags-any').length > 0) b = b.where('uuid', 'not in', (eb) => sub(eb, list('not-tags-any')));
    }
    return b;
  };

  const sorted = (qb: Qb): Qb => order.reduce((b, [col, dir]) => b.orderBy(col, dir), qb);
  // Only the keys of the page are read here; bodies come from the render cache or one batched fetch.
  type PageRow = ServerKey & { display_name: string };
  const pageQuery = () => sorted(filter(deps.db.selectFrom('instances').selectAll())).clearSelect().select([...SERVER_KEY_COLUMNS, 'display_name']);
  let rows: PageRow[];
  if (marker === undefined) {
    rows = await pageQuery().limit(limit).execute();
  } else {
    const all = await pageQuery().execute();
    const at = all.findIndex((r) => r.uuid === marker);
    if (at < 0) throw badRequest(`marker [${marker}] not found`);
    rows = all.slice(at + 1, at + 1 + limit);
  }

  const next = nextLinks(req, deps.config.compute.max_limit, rows.length, rows.at(-1)?.uuid, detail ? 'servers/detail' : 'servers');
  const links = next.length > 0 ? `,"servers_links":${JSON.stringify(next)}` : '';
  const servers = detail
    ? await renderServers({ deps, req }, rows, false)
    : rows.map((r) => JSON.stringify(serverSummary(r, req.urls)));
  return { status: 200, json: `{"servers":[${servers.join(',')}]${links}}` };
}
