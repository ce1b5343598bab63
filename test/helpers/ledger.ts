import assert from 'node:assert/strict';
import type { TestCloud, TestResponse } from './cloud.js';

/**
 * The resource ledger: after a move scenario has settled, what the
 * hypervisors report as used must be exactly what the servers placed on
 * them and the moves under way account for; no host may be committed
 * beyond its allocation ratios; and each simulated hypervisor must run
 * exactly the guests of the servers placed on it.
 *
 * Everything is read the way a client and an operator would see it (admin
 * GET /os-hypervisors/detail, /servers/detail, /os-migrations,
 * /flavors/{id}) and from the fake hypervisors (listGuests), never from the
 * scheduler's own bookkeeping (host-states.ts), so the check is independent
 * of how Stratus counts.
 */

/** Which flavor a move holds: the migration's new or old flavor, or the server's current flavor. */
export type HeldFlavor = 'new' | 'old' | 'server' | 'none';

/** One row of the holdings table: what a move of `types` in one of `statuses` holds, and where. */
export interface HoldingRule {
  types: readonly string[];
  statuses: readonly string[];
  flavor: HeldFlavor;
  /** The host the migration names that carries the capacity. */
  on: 'dest_compute' | 'source_compute';
  /**
   * The host that may still run the server's guest although the server is
   * placed elsewhere (a host that was down when the server was evacuated,
   * until it comes back and cleans up).
   */
  staleGuestOn?: 'dest_compute' | 'source_compute';
}

/**
 * Capacity held by moves under way, beyond what each server's own flavor
 * counts on its `OS-EXT-SRV-ATTR:host`. Every row matching a migration's
 * type and status applies; a migration no row matches holds nothing.
 * Extend this table when a new kind of move lands.
 */
export const MOVE_HOLDINGS: readonly HoldingRule[] = [
  // Resize and cold migration: before the finish the server is on the source and the destination holds the new flavor ...
  { types: ['resize', 'migration'], statuses: ['migrating', 'post-migrating'], flavor: 'new', on: 'dest_compute' },
  // ... from the finish (VERIFY_RESIZE) until confirm or revert completes, the server is on the destination and the source keeps the old flavor.
  // (The source keeps the guest shut off until confirm or revert, as libvirt does.)
  { types: ['resize', 'migration'], statuses: ['finished', 'confirming', 'reverting'], flavor: 'old', on: 'source_compute', staleGuestOn: 'source_compute' },
  // Live migration: the destination holds the server's flavor while the guest is copied.
  // A failed resize or cold migration holds nothing, but its source may keep the guest it kept for a revert (as libvirt does).
  { types: ['resize', 'migration'], statuses: ['error'], flavor: 'none', on: 'source_compute', staleGuestOn: 'source_compute' },
  { types: ['live-migration'], statuses: ['queued', 'preparing', 'running', 'post-migrating'], flavor: 'server', on: 'dest_compute' },
  // Evacuation: the destination holds the flavor while it rebuilds ...
  { types: ['evacuation'], statuses: ['pre-migrating'], flavor: 'server', on: 'dest_compute' },
  // ... and once done the (down) source keeps its allocation and maybe its guest until it comes back and cleans up.
  { types: ['evacuation'], statuses: ['done'], flavor: 'server', on: 'source_compute', staleGuestOn: 'source_compute' },
];

export interface LedgerOptions {
  /**
   * Servers that may have no guest on their host: a spawn failed (the fake
   * hypervisor creates no guest) and the server was left in ERROR there.
   * Every other server must have exactly one guest, on its host.
   */
  guestless?: readonly string[];
  /** Prefixed to the failure message (which scenario). */
  label?: string;
  /** Holdings table to use (default MOVE_HOLDINGS). */
  rules?: readonly HoldingRule[];
}

interface Amount {
  vcpus: number;
  ram: number;
  disk: number;
}

interface LiveServer {
  id: string;
  status: string;
  host: string | null;
  flavor: Amount;
}

interface MigrationView {
  id: number;
  status: string;
  instance_uuid: string;
  migration_type: string;
  source_compute: string | null;
  dest_compute: string | null;
  old_instance_type_id: string | null;
  new_instance_type_id: string | null;
}

const zero = (): Amount => ({ vcpus: 0, ram: 0, disk: 0 });
const add = (a: Amount, b: Amount): Amount => ({ vcpus: a.vcpus + b.vcpus, ram: a.ram + b.ram, disk: a.disk + b.disk });
const fmt = (a: Amount): string => `vcpus=${a.vcpus} ram=${a.ram} disk=${a.disk}`;

function ok(res: TestResponse, what: string): void {
  if (res.status !== 200) throw new assert.AssertionError({ message: `ledger: ${what} answered ${res.status}: ${res.text}` });
}

/** The path and query of an absolute link, to send through the in-process cloud. */
function pathOf(href: string): string {
  const u = new URL(href);
  return `${u.pathname}${u.search}`;
}

/** A GET of a listing, following its `<key>_links` next links. */
async function getAll(cloud: TestCloud, url: string, key: string, version: string): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  let next: string | undefined = url;
  for (let page = 0; next !== undefined; page++) {
    if (page > 1000) throw new Error(`ledger: ${url} pages without end`);
    const res = await cloud.request({ url: next, as: 'admin', version });
    ok(res, `GET ${next}`);
    const items = res.body?.[key] as Record<string, unknown>[] | undefined;
    if (!Array.isArray(items)) throw new assert.AssertionError({ message: `ledger: GET ${next} has no ${key}: ${res.text}` });
    out.push(...items);
    const links = res.body?.[`${key}_links`] as { rel: string; href: string }[] | undefined;
    const href = links?.find((l) => l.rel === 'next')?.href;
    next = href === undefined ? undefined : pathOf(href);
  }
  return out;
}

const num = (v: unknown): number => (typeof v === 'number' ? v : Number(v ?? 0));
const str = (v: unknown): string | null => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : null);

function migrationView(m: Record<string, unknown>): MigrationView {
  return {
    id: num(m.id),
    status: String(m.status),
    instance_uuid: String(m.instance_uuid),
    migration_type: String(m.migration_type),
    source_compute: str(m.source_compute),
    dest_compute: str(m.dest_compute),
    old_instance_type_id: str(m.old_instance_type_id),
    new_instance_type_id: str(m.new_instance_type_id),
  };
}

/** Every live server of every project (soft-deleted ones too: they keep their host), with its embedded flavor (2.47). */
async function liveServers(cloud: TestCloud): Promise<LiveServer[]> {
  const rows = await getAll(cloud, '/compute/v2.1/servers/detail?all_tenants=1&soft_deleted=True', 'servers', '2.47');
  return rows.map((s) => {
    const f = (s.flavor ?? {}) as Record<string, unknown>;
    const host = s['OS-EXT-SRV-ATTR:host'];
    return {
      id: String(s.id),
      status: String(s.status),
      host: typeof host === 'string' && host !== '' ? host : null,
      flavor: { vcpus: num(f.vcpus), ram: num(f.ram), disk: num(f.disk) + num(f.ephemeral) },
    };
  });
}

/**
 * A migration names flavors by Nova's instance_type_id, an internal id the
 * API does not map to a flavor; the one peek into the database here turns
 * it into the flavor's API id, which is then read through the API.
 */
async function flavorAmount(cloud: TestCloud, cache: Map<string, Amount>, typeId: string): Promise<Amount> {
  const hit = cache.get(typeId);
  if (hit) return hit;
  const row = await cloud.db.selectFrom('flavors').select('flavorid').where('id', '=', Number(typeId)).executeTakeFirst();
  assert.ok(row, `no flavor with instance_type_id ${typeId}`);
  const id = row.flavorid;
  const res = await cloud.request({ url: `/compute/v2.1/flavors/${encodeURIComponent(id)}`, as: 'admin' });
  ok(res, `GET /flavors/${id}`);
  const f = res.body.flavor as Record<string, unknown>;
  const a = { vcpus: num(f.vcpus), ram: num(f.ram), disk: num(f.disk) + num(f['OS-FLV-EXT-DATA:ephemeral']) };
  cache.set(typeId, a);
  return a;
}

/**
 * Asserts the resource ledger of a settled cloud (see the top of this
 * file). Rejects with every discrepancy found, each naming its host and,
 * where one is involved, its server.
 */
export async function assertLedger(cloud: TestCloud, opts: LedgerOptions = {}): Promise<void> {
  const rules = opts.rules ?? MOVE_HOLDINGS;
  const guestless = new Set(opts.guestless ?? []);
  const problems: string[] = [];
  const configured = cloud.config.compute.hosts;
  const hostNames = new Set(configured.map((h) => h.name));

  const servers = await liveServers(cloud);
  const byId = new Map(servers.map((s) => [s.id, s]));
  // 2.23 adds migration_type; before 2.59 the listing is not paged.
  const migrations = (await getAll(cloud, '/compute/v2.1/os-migrations', 'migrations', '2.23')).map(migrationView);
  const flavors = new Map<string, Amount>();

  // a) Expected usage per host: the live servers placed there ...
  const expected = new Map<string, Amount>(configured.map((h) => [h.name, zero()]));
  const why = new Map<string, string[]>(configured.map((h) => [h.name, []]));
  for (const s of servers) {
    if (s.host === null) continue;
    if (!hostNames.has(s.host)) {
      problems.push(`server ${s.id} (${s.status}) is on ${s.host}, which is not a configured host`);
      continue;
    }
    expected.set(s.host, add(expected.get(s.host) ?? zero(), s.flavor));
    why.get(s.host)?.push(`server ${s.id} ${s.status} ${fmt(s.flavor)}`);
  }
  // ... plus what the moves under way hold (only moves of live servers count).
  const staleGuests = new Map<string, Set<string>>();
  for (const m of migrations) {
    const server = byId.get(m.instance_uuid);
    if (!server) continue;
    for (const rule of rules.filter((r) => r.types.includes(m.migration_type) && r.statuses.includes(m.status))) {
      if (rule.staleGuestOn) {
        const g = m[rule.staleGuestOn];
        if (g) {
          let set = staleGuests.get(g);
          if (!set) staleGuests.set(g, (set = new Set()));
          set.add(m.instance_uuid);
        }
      }
      const host = m[rule.on];
      if (!host || rule.flavor === 'none') continue;
      let amount: Amount;
      if (rule.flavor === 'server') amount = server.flavor;
      else {
        const fid = rule.flavor === 'new' ? m.new_instance_type_id : m.old_instance_type_id;
        if (fid === null) {
          problems.push(`migration ${m.id} (${m.migration_type} ${m.status}) of server ${m.instance_uuid} names no ${rule.flavor} flavor`);
          continue;
        }
        amount = await flavorAmount(cloud, flavors, fid);
      }
      if (!hostNames.has(host)) {
        problems.push(`migration ${m.id} of server ${m.instance_uuid} holds capacity on ${host}, which is not a configured host`);
        continue;
      }
      expected.set(host, add(expected.get(host) ?? zero(), amount));
      why.get(host)?.push(`migration ${m.id} ${m.migration_type} ${m.status} of ${m.instance_uuid} holds ${rule.flavor} flavor ${fmt(amount)}`);
    }
  }

  // What the hypervisors report (2.87 is the last microversion with usage).
  const hypervisors = await getAll(cloud, '/compute/v2.1/os-hypervisors/detail', 'hypervisors', '2.87');
  for (const h of configured) {
    const hv = hypervisors.find((x) => x.hypervisor_hostname === h.name);
    if (!hv) {
      problems.push(`host ${h.name}: no hypervisor in GET /os-hypervisors/detail`);
      continue;
    }
    const used: Amount = { vcpus: num(hv.vcpus_used), ram: num(hv.memory_mb_used), disk: num(hv.local_gb_used) };
    const want = expected.get(h.name) ?? zero();
    if (used.vcpus !== want.vcpus || used.ram !== want.ram || used.disk !== want.disk) {
      const detail = why.get(h.name) ?? [];
      problems.push(
        `host ${h.name}: hypervisor reports ${fmt(used)} but its servers and moves account for ${fmt(want)}` +
          (detail.length > 0 ? ` (${detail.join('; ')})` : ' (nothing placed there)'),
      );
    }
    // b) No host committed beyond capacity × allocation ratio, on either count.
    const total: Amount = { vcpus: num(hv.vcpus), ram: num(hv.memory_mb), disk: num(hv.local_gb) };
    const limit: Amount = {
      vcpus: total.vcpus * h.cpu_allocation_ratio,
      ram: total.ram * h.ram_allocation_ratio,
      disk: total.disk * h.disk_allocation_ratio,
    };
    for (const [label, a] of [['reported', used], ['accounted', want]] as const) {
      for (const k of ['vcpus', 'ram', 'disk'] as const) {
        if (a[k] > limit[k] + 1e-9) problems.push(`host ${h.name}: ${label} ${k} ${a[k]} exceeds ${total[k]} × ratio = ${limit[k]}`);
      }
    }
  }

  // c) Each hypervisor runs exactly the guests of the servers placed on it.
  for (const h of configured) {
    const driver = cloud.compute.drivers.get(h.name);
    if (!driver) {
      problems.push(`host ${h.name}: no driver`);
      continue;
    }
    const guests = new Set(await driver.listGuests());
    const placed = servers.filter((s) => s.host === h.name);
    for (const s of placed) {
      if (!guests.has(s.id) && !guestless.has(s.id)) problems.push(`host ${h.name}: server ${s.id} (${s.status}) is placed here but the hypervisor has no guest for it`);
    }
    const mayStay = staleGuests.get(h.name) ?? new Set<string>();
    for (const g of guests) {
      if (placed.some((s) => s.id === g) || mayStay.has(g)) continue;
      const s = byId.get(g);
      problems.push(
        s
          ? `host ${h.name}: runs a guest of server ${g} (${s.status}), which is placed on ${s.host ?? 'no host'}`
          : `host ${h.name}: runs a stray guest ${g} that belongs to no live server`,
      );
    }
  }

  if (problems.length > 0) {
    throw new assert.AssertionError({ message: `${opts.label ? `${opts.label}: ` : ''}resource ledger inconsistent:\n  - ${problems.join('\n  - ')}` });
  }
}
