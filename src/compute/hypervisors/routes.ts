import { createHash } from 'node:crypto';
import { hostCpuInfo } from '../../virt/cpu.js';
import { sql } from 'kysely';
import type { ComputeRequest, Reply, RouteDef } from '../../api/route.js';
import { schemaFor } from '../../api/validation.js';
import { badRequest, notFound } from '../../errors.js';
import { parseStored } from '../../lib/time.js';
import type { HostConfig } from '../../config/index.js';
import type { ComputeDeps } from '../deps.js';
import { migrationHoldings } from '../migrations/holdings.js';
import { authorize, boolFromString, lastParam, limitAndMarker, NON_NEGATIVE_INT, nextLinks, pyInt, qparam, querySchema } from '../resources/common.js';
import { BOOLEAN } from '../resources/flavors.schema.js';
import { COMPUTE_BINARY, isUp, listServices, type ServiceRow } from '../os-services/repo.js';
import { HV_POLICY } from './policies.js';

/**
 * os-hypervisors: one compute node per configured host (node name = host
 * name), with the state of its compute service, capacity from
 * configuration and usage summed from the live servers placed on it. A
 * node's integer id is its service's id; its uuid is derived from the host.
 */

interface Node {
  id: number;
  uuid: string;
  host: HostConfig;
  service: ServiceRow;
}

interface Usage {
  vcpus: number;
  memoryMb: number;
  diskGb: number;
  servers: number;
  busy: number;
}

/** A stable UUID for a host's compute node (name-based, SHA-1, RFC 4122 layout). */
function nodeUuid(host: string): string {
  const h = createHash('sha1').update(`stratus-compute-node:${host}`).digest('hex');
  const variant = ((parseInt(h.slice(16, 18), 16) & 0x3f) | 0x80).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${variant}${h.slice(18, 20)}-${h.slice(20, 32)}`;
}

async function nodes(deps: ComputeDeps): Promise<Node[]> {
  const services = await listServices(deps.db);
  const out: Node[] = [];
  for (const s of services) {
    if (s.binary !== COMPUTE_BINARY) continue;
    const host = deps.config.compute.hosts.find((h) => h.name === s.host);
    if (host) out.push({ id: s.id, uuid: nodeUuid(s.host), host, service: s });
  }
  return out;
}

async function usageByHost(deps: ComputeDeps): Promise<Map<string, Usage>> {
  const rows = await deps.db
    .selectFrom('instances')
    .select([
      'host',
      sql<number>`count(*)`.as('n'),
      sql<number>`sum(case when task_state is null then 0 else 1 end)`.as('busy'),
      sql<number>`sum(vcpus)`.as('vcpus'),
      sql<number>`sum(memory_mb)`.as('memory_mb'),
      sql<number>`sum(root_gb + ephemeral_gb)`.as('disk_gb'),
    ])
    .where('deleted', '=', 0)
    .where('host', 'is not', null)
    .groupBy('host')
    .execute();
  const out = new Map<string, Usage>(
    rows.map((r) => [
      r.host ?? '',
      { vcpus: Number(r.vcpus), memoryMb: Number(r.memory_mb), diskGb: Number(r.disk_gb), servers: Number(r.n), busy: Number(r.busy) },
    ]),
  );
  // What resizes and migrations hold on the other host counts as used, as the scheduler counts it.
  for (const [host, h] of await migrationHoldings(deps.db)) {
    const u = out.get(host) ?? { vcpus: 0, memoryMb: 0, diskGb: 0, servers: 0, busy: 0 };
    out.set(host, { ...u, vcpus: u.vcpus + h.vcpus, memoryMb: u.memoryMb + h.memoryMb, diskGb: u.diskGb + h.diskGb });
  }
  return out;
}

async function serversOn(deps: ComputeDeps, host: string): Promise<{ name: string; uuid: string }[]> {
  const rows = await deps.db.selectFrom('instances').select(['display_name', 'uuid']).where('deleted', '=', 0).where('host', '=', host).orderBy('id').execute();
  return rows.map((r) => ({ name: r.display_name, uuid: r.uuid }));
}

/** A fake `uptime` line, counted from when the host's service was created. */
function uptimeOf(deps: ComputeDeps, n: Node): string {
  const now = new Date(deps.clock.now());
  const secs = Math.max(0, Math.floor((now.getTime() - parseStored(n.service.created_at).getTime()) / 1000));
  const days = Math.floor(secs / 86400);
  const hh = Math.floor((secs % 86400) / 3600);
  const mm = String(Math.floor((secs % 3600) / 60)).padStart(2, '0');
  const clock = now.toISOString().slice(11, 19);
  return ` ${clock} up ${days} days, ${hh}:${mm},  1 user,  load average: 0.00, 0.00, 0.00`;
}

interface ViewOpts {
  detail: boolean;
  usage?: Usage;
  servers?: { name: string; uuid: string }[];
  withServers?: boolean;
}

function view(deps: ComputeDeps, req: ComputeRequest, n: Node, o: ViewOpts): Record<string, unknown> {
  const uuids = req.mv.ge('2.53');
  const s = n.service;
  const out: Record<string, unknown> = {
    id: uuids ? n.uuid : n.id,
    hypervisor_hostname: n.host.name,
    state: isUp(s, deps.clock.now(), deps.config.compute.service_down_time) ? 'up' : 'down',
    status: s.disabled ? 'disabled' : 'enabled',
  };
  if (o.detail) {
    out.hypervisor_type = 'fake';
    out.hypervisor_version = 1000;
    out.host_ip = deps.config.host;
    out.service = { id: uuids ? s.uuid : s.id, host: s.host, disabled_reason: s.disabled_reason };
    if (!req.mv.ge('2.88')) {
      const u = o.usage ?? { vcpus: 0, memoryMb: 0, diskGb: 0, servers: 0, busy: 0 };
      Object.assign(out, {
        vcpus: n.host.vcpus,
        memory_mb: n.host.memory_mb,
        local_gb: n.host.disk_gb,
        vcpus_used: u.vcpus,
        memory_mb_used: u.memoryMb,
        local_gb_used: u.diskGb,
        free_ram_mb: n.host.memory_mb - u.memoryMb,
        free_disk_gb: n.host.disk_gb - u.diskGb,
        current_workload: u.busy,
        running_vms: u.servers,
        disk_available_least: n.host.disk_gb - u.diskGb,
        cpu_info: req.mv.ge('2.28') ? hostCpuInfo(n.host) : JSON.stringify(hostCpuInfo(n.host)),
      });
    } else {
      out.uptime = uptimeOf(deps, n);
    }
  }
  if (o.servers && o.servers.length > 0) out.servers = o.servers;
  else if (o.withServers && req.mv.ge('2.75')) out.servers = [];
  return out;
}

/** compute_node_search_by_hypervisor: a SQL LIKE '%pattern%' on the node name (case-insensitive, as SQLite and MySQL compare). */
function matching(all: Node[], pattern: string): Node[] {
  const found = all.filter((n) => n.host.name.toLowerCase().includes(pattern.toLowerCase()));
  if (found.length === 0) throw notFound(`No hypervisor matching '${pattern}' could be found.`);
  return found;
}

async function list(deps: ComputeDeps, req: ComputeRequest, detail: boolean): Promise<Reply> {
  authorize(deps, req, detail ? HV_POLICY.listDetail : HV_POLICY.list, {});
  const uuids = req.mv.ge('2.53');
  const paged = req.mv.ge('2.33');
  const pattern = uuids ? lastParam(req.query, 'hypervisor_hostname_pattern') : undefined;
  let withServers = false;
  if (uuids) {
    const raw = lastParam(req.query, 'with_servers');
    if (raw !== undefined) withServers = boolFromString(raw, true) === true;
  }
  let all = await nodes(deps);
  let links = paged;
  if (pattern !== undefined) {
    if (lastParam(req.query, 'limit') !== undefined || lastParam(req.query, 'marker')) {
      throw badRequest('Paging over hypervisors with the hypervisor_hostname_pattern query parameter is not supported.');
    }
    links = false;
    all = matching(all, pattern);
  } else if (paged) {
    const { limit, marker } = limitAndMarker(req.query, deps.config.compute.max_limit);
    if (marker !== undefined) {
      const at = all.findIndex((n) => (uuids ? n.uuid === marker : String(n.id) === marker || n.id === pyInt(marker)));
      if (at < 0) throw badRequest(`marker [${marker}] not found`);
      all = all.slice(at + 1);
    }
    all = all.slice(0, limit);
  }
  const usage = detail ? await usageByHost(deps) : new Map<string, Usage>();
  const hypervisors: Record<string, unknown>[] = [];
  for (const n of all) {
    const servers = withServers ? await serversOn(deps, n.host.name) : undefined;
    hypervisors.push(view(deps, req, n, { detail, usage: usage.get(n.host.name), ...(servers ? { servers } : {}), withServers }));
  }
  const body: Record<string, unknown> = { hypervisors };
  if (links) {
    const last = all.at(-1);
    const next = nextLinks(req, deps.config.compute.max_limit, all.length, last ? (uuids ? last.uuid : String(last.id)) : undefined, detail ? 'os-hypervisors/detail' : 'os-hypervisors');
    if (next.length > 0) body.hypervisors_links = next;
  }
  return { status: 200, body };
}

/** The node named by the path id: a uuid from 2.53 (else 400), an integer before (else 404). */
async function byId(deps: ComputeDeps, req: ComputeRequest): Promise<Node> {
  const id = req.params.hypervisor_id ?? '';
  const all = await nodes(deps);
  let found: Node | undefined;
  if (req.mv.ge('2.53')) {
    if (!/^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i.test(id)) throw badRequest(`Invalid uuid ${id}`);
    const want = id.toLowerCase().replace(/-/g, '');
    found = all.find((n) => n.uuid.replace(/-/g, '') === want);
  } else {
    const n = pyInt(id);
    found = n === null ? undefined : all.find((x) => x.id === n);
  }
  if (!found) throw notFound(`Hypervisor with ID '${id}' could not be found.`);
  return found;
}

async function show(deps: ComputeDeps, req: ComputeRequest): Promise<Reply> {
  authorize(deps, req, HV_POLICY.show, {});
  const n = await byId(deps, req);
  let withServers = false;
  if (req.mv.ge('2.53')) {
    const raw = lastParam(req.query, 'with_servers');
    if (raw !== undefined) withServers = boolFromString(raw, true) === true;
  }
  const servers = withServers ? await serversOn(deps, n.host.name) : undefined;
  const usage = (await usageByHost(deps)).get(n.host.name);
  return { status: 200, body: { hypervisor: view(deps, req, n, { detail: true, usage, ...(servers ? { servers } : {}), withServers }) } };
}

async function uptime(deps: ComputeDeps, req: ComputeRequest): Promise<Reply> {
  authorize(deps, req, HV_POLICY.uptime, {});
  const n = await byId(deps, req);
  return { status: 200, body: { hypervisor: { ...view(deps, req, n, { detail: false }), uptime: uptimeOf(deps, n) } } };
}

async function search(deps: ComputeDeps, req: ComputeRequest, withServers: boolean): Promise<Reply> {
  authorize(deps, req, withServers ? HV_POLICY.servers : HV_POLICY.search, {});
  const found = matching(await nodes(deps), req.params.hypervisor_id ?? '');
  const hypervisors: Record<string, unknown>[] = [];
  for (const n of found) {
    const servers = withServers ? await serversOn(deps, n.host.name) : undefined;
    hypervisors.push(view(deps, req, n, { detail: false, ...(servers ? { servers } : {}) }));
  }
  return { status: 200, body: { hypervisors } };
}

async function statistics(deps: ComputeDeps, req: ComputeRequest): Promise<Reply> {
  authorize(deps, req, HV_POLICY.statistics, {});
  const all = await nodes(deps);
  const usage = await usageByHost(deps);
  const st = { count: 0, vcpus_used: 0, local_gb_used: 0, memory_mb_used: 0, current_workload: 0, vcpus: 0, running_vms: 0, free_disk_gb: 0, disk_available_least: 0, local_gb: 0, free_ram_mb: 0, memory_mb: 0 };
  for (const n of all) {
    const u = usage.get(n.host.name) ?? { vcpus: 0, memoryMb: 0, diskGb: 0, servers: 0, busy: 0 };
    st.count += 1;
    st.vcpus += n.host.vcpus;
    st.memory_mb += n.host.memory_mb;
    st.local_gb += n.host.disk_gb;
    st.vcpus_used += u.vcpus;
    st.memory_mb_used += u.memoryMb;
    st.local_gb_used += u.diskGb;
    st.free_ram_mb += n.host.memory_mb - u.memoryMb;
    st.free_disk_gb += n.host.disk_gb - u.diskGb;
    st.disk_available_least += n.host.disk_gb - u.diskGb;
    st.current_workload += u.busy;
    st.running_vms += u.servers;
  }
  return { status: 200, body: { hypervisor_statistics: st } };
}

const listQuery = schemaFor(
  { max: '2.32', schema: querySchema({}, false) },
  { min: '2.33', max: '2.52', schema: querySchema({ limit: qparam(NON_NEGATIVE_INT), marker: qparam() }, false) },
  {
    min: '2.53',
    schema: querySchema(
      {
        limit: NON_NEGATIVE_INT,
        marker: { type: 'string' },
        hypervisor_hostname_pattern: { type: 'string', minLength: 1, maxLength: 255, pattern: '^[a-zA-Z0-9-._]*$' },
        with_servers: BOOLEAN,
      },
      true,
    ),
  },
);
const showQuery = schemaFor({ max: '2.52', schema: querySchema({}, false) }, { min: '2.53', schema: querySchema({ with_servers: BOOLEAN }, true) });

export function hypervisorRoutes(deps: ComputeDeps): RouteDef[] {
  return [
    { method: 'GET', path: '/os-hypervisors', query: listQuery, handler: (r) => list(deps, r, false) },
    { method: 'GET', path: '/os-hypervisors/detail', query: listQuery, handler: (r) => list(deps, r, true) },
    { method: 'GET', path: '/os-hypervisors/statistics', max: '2.87', handler: (r) => statistics(deps, r) },
    { method: 'GET', path: '/os-hypervisors/:hypervisor_id', query: showQuery, handler: (r) => show(deps, r) },
    { method: 'GET', path: '/os-hypervisors/:hypervisor_id/uptime', max: '2.87', handler: (r) => uptime(deps, r) },
    { method: 'GET', path: '/os-hypervisors/:hypervisor_id/search', max: '2.52', handler: (r) => search(deps, r, false) },
    { method: 'GET', path: '/os-hypervisors/:hypervisor_id/servers', max: '2.52', handler: (r) => search(deps, r, true) },
  ];
}
