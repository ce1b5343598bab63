import { randomBytes, randomUUID } from 'node:crypto';
import type { Db } from '../db/index.js';
import type { Clock } from '../lib/clock.js';
import { isoMicro } from '../lib/time.js';
import { ApiError, badRequest, conflict } from '../errors.js';
import type { FloatingIpRow, PortRow, SecurityGroupRow } from '../compute/tables.js';
import { touchInstance } from '../compute/servers/repo.js';

/** What a server asked for on one interface. */
export interface NicRequest {
  networkId?: string;
  portId?: string;
  fixedIp?: string;
  tag?: string;
}

export interface Address {
  version: 4 | 6;
  addr: string;
  type: 'fixed' | 'floating';
  mac: string;
}

const ipv4ToInt = (ip: string): number => ip.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
const intToIpv4 = (n: number): string => [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');

export function parseCidr(cidr: string): { base: number; size: number } {
  const [ip = '', bits = '32'] = cidr.split('/');
  const size = 2 ** (32 - Number(bits));
  return { base: Math.floor(ipv4ToInt(ip) / size) * size, size };
}

/**
 * The first four groups of an IPv6 CIDR's address (its /64 prefix), each
 * without leading zeros: `fd9a:57a5:d2b2::/64` -> `fd9a:57a5:d2b2:0`, so that
 * prefix + an EUI-64 interface id makes a whole address.
 */
export function v6Prefix64(cidr: string): string | null {
  const addr = cidr.split('/')[0] ?? '';
  const [head = '', tail] = addr.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = tail === undefined ? left : [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right];
  if (groups.length < 4 || groups.some((g) => !/^[0-9a-fA-F]{1,4}$/.test(g))) return null;
  return groups
    .slice(0, 4)
    .map((g) => g.toLowerCase().replace(/^0+(?=.)/, ''))
    .join(':');
}

/** RFC 5952 text of an address given as eight groups: no leading zeros, the longest run (2+) of zero groups as `::`. */
export function canonicalV6(groups: string[]): string {
  const g = groups.map((x) => x.toLowerCase().replace(/^0+(?=.)/, ''));
  let best = { at: -1, len: 0 };
  for (let i = 0; i < g.length; ) {
    if (g[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < g.length && g[j] === '0') j++;
    if (j - i > best.len) best = { at: i, len: j - i };
    i = j;
  }
  if (best.len < 2) return g.join(':');
  return `${g.slice(0, best.at).join(':')}::${g.slice(best.at + best.len).join(':')}`;
}

export const DEFAULT_NETWORK = { name: 'private', cidr: '10.0.0.0/16', cidrV6: 'fd9a:57a5:d2b2::/64' };
/** The external network floating IPs come from (devstack's `public`). */
export const FLOATING_POOL = { name: 'public', cidr: '172.24.4.0/24' };

export const UUID_LIKE = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

/** A floating IP with the name of the pool (external network) it belongs to. */
export type FloatingIp = FloatingIpRow & { pool: string };

/** One interface of a server with every fixed address it holds. */
export interface ServerPort {
  id: string;
  networkId: string;
  networkName: string;
  mac: string;
  /** Primary IPv4, IPv6, then addresses added later, in that order. */
  fixedIps: string[];
}

/**
 * A failure of the network service as Neutron would report it; the API
 * decides the status and wording (the same Neutron error maps differently
 * per Nova API).
 */
export class NetworkError extends Error {
  constructor(
    readonly kind:
      | 'sg-not-found'
      | 'sg-not-associated'
      | 'sg-no-unique-match'
      | 'sg-in-use'
      | 'sg-default'
      | 'sg-duplicate-on-port'
      | 'no-ports'
      | 'fip-pool-not-found'
      | 'fip-exhausted'
      | 'fip-port-has-fip'
      | 'network-not-found-for-instance'
      | 'fixed-ip-not-found-for-instance',
    message: string,
  ) {
    super(message);
    this.name = 'NetworkError';
  }
}

interface Pool {
  base: number;
  size: number;
  v6Prefix: string | null;
  used: Set<number>;
  cursor: number;
}

/**
 * The built-in network model: networks with an IPv4 (and optional IPv6)
 * range, ports with a MAC and fixed addresses, security groups. Address
 * pools are held in memory (rebuilt from the ports table at start), so
 * allocation does not scan the table.
 */
export class NetworkModel {
  private readonly pools = new Map<string, Pool>();
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
  ) {}

  /** Seeds the default shared network on first start and loads the address pools. */
  async init(): Promise<void> {
    const existing = await this.db.selectFrom('networks').select('id').limit(1).executeTakeFirst();
    if (!existing) {
      await this.db
        .insertInto('networks')
        .values({
          id: randomUUID(),
          name: DEFAULT_NETWORK.name,
          project_id: null,
          shared: 1,
          cidr: DEFAULT_NETWORK.cidr,
          cidr_v6: DEFAULT_NETWORK.cidrV6,
          created_at: isoMicro(this.clock.now()),
        })
        .execute();
    }
    const external = await this.db.selectFrom('networks').select('id').where('external', '=', 1).limit(1).executeTakeFirst();
    if (!external) {
      await this.db
        .insertInto('networks')
        .values({
          id: randomUUID(),
          name: FLOATING_POOL.name,
          project_id: null,
          shared: 0,
          external: 1,
          cidr: FLOATING_POOL.cidr,
          cidr_v6: null,
          created_at: isoMicro(this.clock.now()),
        })
        .execute();
    }
    const nets = await this.db.selectFrom('networks').selectAll().execute();
    for (const n of nets) {
      const { base, size } = parseCidr(n.cidr);
      this.pools.set(n.id, { base, size, v6Prefix: n.cidr_v6 ? v6Prefix64(n.cidr_v6) : null, used: new Set(), cursor: 2 });
    }
    const ports = await this.db.selectFrom('ports').select(['network_id', 'fixed_ip_v4']).execute();
    for (const p of ports) {
      if (p.fixed_ip_v4) this.pools.get(p.network_id)?.used.add(ipv4ToInt(p.fixed_ip_v4));
    }
    const extra = await this.db.selectFrom('port_fixed_ips').select(['network_id', 'address']).execute();
    for (const e of extra) this.pools.get(e.network_id)?.used.add(ipv4ToInt(e.address));
    const fips = await this.db.selectFrom('floating_ips').select(['network_id', 'address']).execute();
    for (const f of fips) this.pools.get(f.network_id)?.used.add(ipv4ToInt(f.address));
  }

  async networksVisibleTo(projectId: string | null): Promise<{ id: string; name: string }[]> {
    const rows = await this.db.selectFrom('networks').select(['id', 'name', 'project_id', 'shared', 'external']).orderBy('created_at').execute();
    return rows.filter((r) => r.external !== 1 && (r.shared === 1 || r.project_id === projectId)).map((r) => ({ id: r.id, name: r.name }));
  }

  /**
   * Checks a server's network request before anything is written: the
   * networks exist and are visible, fixed IPs are inside and free. Returns
   * the concrete NIC list ('auto' resolves to the one visible network).
   */
  async resolveRequest(projectId: string, req: 'auto' | 'none' | NicRequest[] | undefined): Promise<NicRequest[]> {
    if (req === 'none') return [];
    const visible = await this.networksVisibleTo(projectId);
    if (req === undefined || req === 'auto') {
      const first = visible[0];
      if (!first) return [];
      if (req === 'auto' && visible.length > 1) {
        throw conflict('Multiple possible networks found, use a Network ID to be more specific.');
      }
      return [{ networkId: first.id }];
    }
    for (const nic of req) {
      if (nic.portId !== undefined) throw badRequest(`Port id ${nic.portId} could not be found.`);
      if (nic.networkId === undefined) throw badRequest('Bad networks format: network uuid is not in proper format');
      const net = visible.find((n) => n.id === nic.networkId);
      if (!net) throw badRequest(`Network ${nic.networkId} could not be found.`);
      if (nic.fixedIp !== undefined) this.checkFixedIp(nic.networkId, nic.fixedIp);
    }
    return req;
  }

  private checkFixedIp(networkId: string, ip: string): void {
    const pool = this.pools.get(networkId);
    if (!pool || !ip.includes('.')) throw badRequest(`Fixed IP address ${ip} is not valid on network ${networkId}.`);
    const n = ipv4ToInt(ip);
    if (n <= pool.base || n >= pool.base + pool.size - 1) {
      throw badRequest(`Fixed IP address ${ip} is not valid on network ${networkId}.`);
    }
    if (pool.used.has(n)) throw badRequest(`Fixed IP address ${ip} is already in use.`);
  }

  private nextFree(pool: Pool): number {
    for (let i = 0; i < pool.size - 3; i++) {
      const off = ((pool.cursor - 2 + i) % (pool.size - 3)) + 2;
      const n = pool.base + off;
      if (!pool.used.has(n)) {
        pool.cursor = off + 1;
        return n;
      }
    }
    throw conflict('No more IP addresses available on the network.');
  }

  /** Creates the ports of a server (called by its compute host while networking). */
  async allocate(instanceUuid: string, projectId: string, nics: NicRequest[]): Promise<PortRow[]> {
    const out: PortRow[] = [];
    for (const nic of nics) {
      if (nic.networkId === undefined) continue;
      const pool = this.pools.get(nic.networkId);
      if (!pool) throw badRequest(`Network ${nic.networkId} could not be found.`);
      const n = nic.fixedIp !== undefined ? ipv4ToInt(nic.fixedIp) : this.nextFree(pool);
      if (pool.used.has(n)) throw badRequest(`Fixed IP address ${intToIpv4(n)} is already in use.`);
      pool.used.add(n);
      const macBytes = randomBytes(3);
      const mac = `fa:16:3e:${[...macBytes].map((b) => b.toString(16).padStart(2, '0')).join(':')}`;
      const v6 = pool.v6Prefix
        ? canonicalV6([...pool.v6Prefix.split(':'), 'f816', '3eff', `fe${mac.slice(9, 11)}`, `${mac.slice(12, 14)}${mac.slice(15, 17)}`])
        : null;
      const row: PortRow = {
        id: randomUUID(),
        network_id: nic.networkId,
        project_id: projectId,
        instance_uuid: instanceUuid,
        mac_address: mac,
        fixed_ip_v4: intToIpv4(n),
        fixed_ip_v6: v6,
        tag: nic.tag ?? null,
        created_at: isoMicro(this.clock.now()),
      };
      try {
        await this.db.insertInto('ports').values(row).execute();
      } catch (err) {
        pool.used.delete(n);
        throw err;
      }
      out.push(row);
    }
    return out;
  }

  /** Removes a server's ports and returns their addresses to the pools. */
  async deallocate(instanceUuid: string): Promise<void> {
    const ports = await this.db.selectFrom('ports').select(['network_id', 'fixed_ip_v4']).where('instance_uuid', '=', instanceUuid).execute();
    const extra = await this.db.selectFrom('port_fixed_ips').select(['network_id', 'address']).where('instance_uuid', '=', instanceUuid).execute();
    // Floating IPs stay with their project, unbound, as when Neutron deletes the port.
    await this.db
      .updateTable('floating_ips')
      .set({ port_id: null, fixed_ip_address: null, instance_uuid: null, updated_at: isoMicro(this.clock.now()) })
      .where('instance_uuid', '=', instanceUuid)
      .execute();
    await this.db.deleteFrom('port_fixed_ips').where('instance_uuid', '=', instanceUuid).execute();
    await this.db.deleteFrom('ports').where('instance_uuid', '=', instanceUuid).execute();
    for (const p of ports) if (p.fixed_ip_v4) this.pools.get(p.network_id)?.used.delete(ipv4ToInt(p.fixed_ip_v4));
    for (const e of extra) this.pools.get(e.network_id)?.used.delete(ipv4ToInt(e.address));
  }

  /**
   * Addresses of many servers at once, grouped by network name (Nova's
   * `addresses`): per network every fixed address in port order, then the
   * floating IPs bound to them.
   */
  async addressesOf(instanceUuids: string[]): Promise<Map<string, Record<string, Address[]>>> {
    const out = new Map<string, Record<string, Address[]>>();
    if (instanceUuids.length === 0) return out;
    const rows: (PortRow & { network_name: string })[] = [];
    const extra: { port_id: string; address: string }[] = [];
    const floating: { port_id: string | null; address: string }[] = [];
    for (let i = 0; i < instanceUuids.length; i += 500) {
      const chunk = instanceUuids.slice(i, i + 500);
      rows.push(
        ...(await this.db
          .selectFrom('ports')
          .innerJoin('networks', 'networks.id', 'ports.network_id')
          .selectAll('ports')
          .select('networks.name as network_name')
          .where('ports.instance_uuid', 'in', chunk)
          .orderBy('ports.created_at')
          .execute()),
      );
      extra.push(
        ...(await this.db.selectFrom('port_fixed_ips').select(['port_id', 'address']).where('instance_uuid', 'in', chunk).orderBy('id').execute()),
      );
      floating.push(
        ...(await this.db
          .selectFrom('floating_ips')
          .select(['port_id', 'address'])
          .where('instance_uuid', 'in', chunk)
          .orderBy('updated_at')
          .orderBy('address')
          .execute()),
      );
    }
    const extraByPort = new Map<string, string[]>();
    for (const e of extra) extraByPort.set(e.port_id, [...(extraByPort.get(e.port_id) ?? []), e.address]);
    const floatingByPort = new Map<string, string[]>();
    for (const f of floating) if (f.port_id) floatingByPort.set(f.port_id, [...(floatingByPort.get(f.port_id) ?? []), f.address]);
    const floatingOf = new Map<string, Map<string, Address[]>>();
    for (const r of rows) {
      if (!r.instance_uuid) continue;
      const byNet = out.get(r.instance_uuid) ?? {};
      const list = byNet[r.network_name] ?? [];
      if (r.fixed_ip_v4) list.push({ version: 4, addr: r.fixed_ip_v4, type: 'fixed', mac: r.mac_address });
      if (r.fixed_ip_v6) list.push({ version: 6, addr: r.fixed_ip_v6, type: 'fixed', mac: r.mac_address });
      for (const a of extraByPort.get(r.id) ?? []) list.push({ version: a.includes(':') ? 6 : 4, addr: a, type: 'fixed', mac: r.mac_address });
      byNet[r.network_name] = list;
      out.set(r.instance_uuid, byNet);
      const fl = floatingOf.get(r.instance_uuid) ?? new Map<string, Address[]>();
      const fList = fl.get(r.network_name) ?? [];
      for (const a of floatingByPort.get(r.id) ?? []) fList.push({ version: 4, addr: a, type: 'floating', mac: r.mac_address });
      fl.set(r.network_name, fList);
      floatingOf.set(r.instance_uuid, fl);
    }
    for (const [uuid, byNet] of floatingOf) {
      const nets = out.get(uuid);
      if (!nets) continue;
      for (const [net, list] of byNet) if (list.length > 0) nets[net] = [...(nets[net] ?? []), ...list];
    }
    return out;
  }

  /** The interfaces of a server with their fixed addresses (what Neutron's port list shows). */
  async portsOf(instanceUuid: string): Promise<ServerPort[]> {
    const ports = await this.db
      .selectFrom('ports')
      .innerJoin('networks', 'networks.id', 'ports.network_id')
      .selectAll('ports')
      .select('networks.name as network_name')
      .where('ports.instance_uuid', '=', instanceUuid)
      .orderBy('ports.created_at')
      .execute();
    const extra = await this.db.selectFrom('port_fixed_ips').select(['port_id', 'address']).where('instance_uuid', '=', instanceUuid).orderBy('id').execute();
    return ports.map((p) => ({
      id: p.id,
      networkId: p.network_id,
      networkName: p.network_name,
      mac: p.mac_address,
      fixedIps: [p.fixed_ip_v4, p.fixed_ip_v6, ...extra.filter((e) => e.port_id === p.id).map((e) => e.address)].filter((x): x is string => x !== null),
    }));
  }

  /* ---- Fixed IPs added and removed after boot (os-multinic) ---- */

  /**
   * Adds a fixed IP from a network to the server's interface on that
   * network (Neutron: one more fixed_ips entry on the port). The network is
   * named by id (or, for clients without a network endpoint, by name).
   */
  async addFixedIp(instanceUuid: string, network: string): Promise<string> {
    const nets = await this.db
      .selectFrom('networks')
      .select(['id', 'name'])
      .where('external', '=', 0)
      .where((eb) => eb.or([eb('id', '=', network), eb('name', '=', network)]))
      .execute();
    const net = nets.find((n) => n.id === network) ?? (nets.length === 1 ? nets[0] : undefined);
    const missing = () => new NetworkError('network-not-found-for-instance', `Network could not be found for instance ${instanceUuid}.`);
    if (!net) throw missing();
    const port = await this.db
      .selectFrom('ports')
      .select(['id'])
      .where('instance_uuid', '=', instanceUuid)
      .where('network_id', '=', net.id)
      .orderBy('created_at')
      .executeTakeFirst();
    const pool = this.pools.get(net.id);
    if (!port || !pool) throw missing();
    const n = this.nextFree(pool);
    pool.used.add(n);
    const address = intToIpv4(n);
    try {
      await this.db
        .insertInto('port_fixed_ips')
        .values({ port_id: port.id, instance_uuid: instanceUuid, network_id: net.id, address, created_at: isoMicro(this.clock.now()) })
        .execute();
    } catch (err) {
      pool.used.delete(n);
      throw err;
    }
    await touchInstance(this.db, instanceUuid);
    return address;
  }

  /** Removes a fixed IP from the server's interfaces; floating IPs bound to it are released from it. */
  async removeFixedIp(instanceUuid: string, address: string): Promise<void> {
    const extra = await this.db
      .selectFrom('port_fixed_ips')
      .select(['id', 'network_id'])
      .where('instance_uuid', '=', instanceUuid)
      .where('address', '=', address)
      .executeTakeFirst();
    if (extra) {
      await this.db.deleteFrom('port_fixed_ips').where('id', '=', extra.id).execute();
      this.pools.get(extra.network_id)?.used.delete(ipv4ToInt(address));
    } else {
      const port = await this.db
        .selectFrom('ports')
        .select(['id', 'network_id', 'fixed_ip_v4', 'fixed_ip_v6'])
        .where('instance_uuid', '=', instanceUuid)
        .where((eb) => eb.or([eb('fixed_ip_v4', '=', address), eb('fixed_ip_v6', '=', address)]))
        .executeTakeFirst();
      if (!port) {
        throw new NetworkError('fixed-ip-not-found-for-instance', `Instance ${instanceUuid} does not have fixed IP '${address}'.`);
      }
      if (port.fixed_ip_v4 === address) {
        await this.db.updateTable('ports').set({ fixed_ip_v4: null }).where('id', '=', port.id).execute();
        this.pools.get(port.network_id)?.used.delete(ipv4ToInt(address));
      } else {
        await this.db.updateTable('ports').set({ fixed_ip_v6: null }).where('id', '=', port.id).execute();
      }
    }
    await this.db
      .updateTable('floating_ips')
      .set({ port_id: null, fixed_ip_address: null, instance_uuid: null, updated_at: isoMicro(this.clock.now()) })
      .where('instance_uuid', '=', instanceUuid)
      .where('fixed_ip_address', '=', address)
      .execute();
    await touchInstance(this.db, instanceUuid);
  }

  /* ---- Floating IPs (external networks are the pools) ---- */

  /** The floating IP pools: every external network. */
  async floatingIpPools(): Promise<{ id: string; name: string }[]> {
    return this.db.selectFrom('networks').select(['id', 'name']).where('external', '=', 1).orderBy('created_at').execute();
  }

  private async poolNetwork(nameOrId: string | null): Promise<{ id: string; name: string }> {
    const pools = await this.floatingIpPools();
    const matches = nameOrId === null
      ? pools.slice(0, 1)
      : pools.filter((p) => (UUID_LIKE.test(nameOrId) ? p.id === nameOrId : p.name === nameOrId));
    const first = matches[0];
    if (!first) throw new NetworkError('fip-pool-not-found', 'Floating IP pool not found.');
    if (matches.length > 1) throw new ApiError(500, `Multiple floating IP pools matches found for name '${nameOrId ?? ''}'`);
    return first;
  }

  /** Allocates a floating IP from a pool (default: the first external network) to a project. */
  async allocateFloatingIp(projectId: string, pool: string | null): Promise<FloatingIp> {
    const net = await this.poolNetwork(pool);
    const p = this.pools.get(net.id);
    if (!p) throw new NetworkError('fip-pool-not-found', 'Floating IP pool not found.');
    let n: number;
    try {
      n = this.nextFree(p);
    } catch {
      throw new NetworkError('fip-exhausted', `No more IP addresses available on network ${net.id}.`);
    }
    p.used.add(n);
    const now = isoMicro(this.clock.now());
    const row: FloatingIpRow = {
      id: randomUUID(),
      address: intToIpv4(n),
      network_id: net.id,
      project_id: projectId,
      port_id: null,
      fixed_ip_address: null,
      instance_uuid: null,
      created_at: now,
      updated_at: now,
    };
    try {
      await this.db.insertInto('floating_ips').values(row).execute();
    } catch (err) {
      p.used.delete(n);
      throw err;
    }
    return { ...row, pool: net.name };
  }

  private async withPool(rows: FloatingIpRow[]): Promise<FloatingIp[]> {
    if (rows.length === 0) return [];
    const nets = await this.db.selectFrom('networks').select(['id', 'name']).where('id', 'in', [...new Set(rows.map((r) => r.network_id))]).execute();
    const names = new Map(nets.map((n) => [n.id, n.name]));
    return rows.map((r) => ({ ...r, pool: names.get(r.network_id) ?? r.network_id }));
  }

  /** Floating IPs of a project (admins see only their own here too, as Neutron's tenant filter does). */
  async floatingIpsOf(projectId: string): Promise<FloatingIp[]> {
    return this.withPool(await this.db.selectFrom('floating_ips').selectAll().where('project_id', '=', projectId).orderBy('created_at').orderBy('address').execute());
  }

  /** A floating IP by id, as the caller sees it (`projectId` null: any project). */
  async floatingIpById(id: string, projectId: string | null): Promise<FloatingIp | undefined> {
    let q = this.db.selectFrom('floating_ips').selectAll().where('id', '=', id);
    if (projectId !== null) q = q.where('project_id', '=', projectId);
    const row = await q.executeTakeFirst();
    return row ? (await this.withPool([row]))[0] : undefined;
  }

  /** A floating IP by address, as the caller sees it (`projectId` null: any project). */
  async floatingIpByAddress(address: string, projectId: string | null): Promise<FloatingIp | undefined> {
    let q = this.db.selectFrom('floating_ips').selectAll().where('address', '=', address);
    if (projectId !== null) q = q.where('project_id', '=', projectId);
    const row = await q.executeTakeFirst();
    return row ? (await this.withPool([row]))[0] : undefined;
  }

  /**
   * Binds a floating IP to a fixed address of a server's port; a floating
   * IP bound elsewhere moves (as Neutron allows). A fixed address that
   * already has another floating IP is refused.
   */
  async associateFloatingIp(fip: FloatingIp, instanceUuid: string, port: ServerPort, fixedAddress: string): Promise<void> {
    const taken = await this.db
      .selectFrom('floating_ips')
      .select(['id'])
      .where('port_id', '=', port.id)
      .where('fixed_ip_address', '=', fixedAddress)
      .where('network_id', '=', fip.network_id)
      .where('id', '!=', fip.id)
      .executeTakeFirst();
    if (taken) {
      throw new NetworkError(
        'fip-port-has-fip',
        `Cannot associate floating IP ${fip.address} (${fip.id}) with port ${port.id} using fixed IP ${fixedAddress}, as that fixed IP already has a floating IP on external network ${fip.network_id}.`,
      );
    }
    await this.db
      .updateTable('floating_ips')
      .set({ port_id: port.id, fixed_ip_address: fixedAddress, instance_uuid: instanceUuid, updated_at: isoMicro(this.clock.now()) })
      .where('id', '=', fip.id)
      .execute();
    if (fip.instance_uuid && fip.instance_uuid !== instanceUuid) await touchInstance(this.db, fip.instance_uuid);
    await touchInstance(this.db, instanceUuid);
  }

  /** Unbinds a floating IP from whatever it is bound to. */
  async disassociateFloatingIp(fip: FloatingIp): Promise<void> {
    await this.db
      .updateTable('floating_ips')
      .set({ port_id: null, fixed_ip_address: null, instance_uuid: null, updated_at: isoMicro(this.clock.now()) })
      .where('id', '=', fip.id)
      .execute();
    if (fip.instance_uuid) await touchInstance(this.db, fip.instance_uuid);
  }

  /** Returns a floating IP to its pool (unbinding it first). */
  async releaseFloatingIp(fip: FloatingIp): Promise<void> {
    await this.db.deleteFrom('floating_ips').where('id', '=', fip.id).execute();
    this.pools.get(fip.network_id)?.used.delete(ipv4ToInt(fip.address));
    if (fip.instance_uuid) await touchInstance(this.db, fip.instance_uuid);
  }

  /** The project's security group by name, creating `default` on first use. */
  async ensureDefaultSecurityGroup(projectId: string): Promise<void> {
    const sg = await this.db
      .selectFrom('security_groups')
      .select('id')
      .where('project_id', '=', projectId)
      .where('name', '=', 'default')
      .executeTakeFirst();
    if (!sg) {
      await this.db
        .insertInto('security_groups')
        .values({ id: randomUUID(), project_id: projectId, name: 'default', description: 'Default security group', created_at: isoMicro(this.clock.now()) })
        .execute();
    }
  }

  async securityGroupExists(projectId: string, nameOrId: string): Promise<boolean> {
    if (nameOrId === 'default') return true;
    const sg = await this.db
      .selectFrom('security_groups')
      .select('id')
      .where('project_id', '=', projectId)
      .where((eb) => eb.or([eb('name', '=', nameOrId), eb('id', '=', nameOrId)]))
      .executeTakeFirst();
    return sg !== undefined;
  }

  /* ---- Security groups (the Neutron resource behind Nova's proxy and actions) ---- */

  /** A project's security groups (`projectId` null: every project), `default` created on first use. */
  async listSecurityGroups(projectId: string | null, callerProject: string | null): Promise<SecurityGroupRow[]> {
    if (callerProject) await this.ensureDefaultSecurityGroup(callerProject);
    let q = this.db.selectFrom('security_groups').selectAll();
    if (projectId !== null) q = q.where('project_id', '=', projectId);
    return q.orderBy('project_id').orderBy('name').orderBy('created_at').execute();
  }

  /** A security group by id, as the caller sees it (`projectId` null: any project). */
  async securityGroupById(id: string, projectId: string | null): Promise<SecurityGroupRow | undefined> {
    let q = this.db.selectFrom('security_groups').selectAll().where('id', '=', id);
    if (projectId !== null) q = q.where('project_id', '=', projectId);
    return q.executeTakeFirst();
  }

  /**
   * Neutron's find by name or id: an id the caller can see, else a unique
   * name in the caller's project. Throws 'sg-not-found' or 'sg-no-unique-match'.
   */
  async findSecurityGroup(callerProject: string, nameOrId: string, isAdmin: boolean): Promise<SecurityGroupRow> {
    await this.ensureDefaultSecurityGroup(callerProject);
    const byId = await this.securityGroupById(nameOrId, isAdmin ? null : callerProject);
    if (byId) return byId;
    const byName = await this.db.selectFrom('security_groups').selectAll().where('project_id', '=', callerProject).where('name', '=', nameOrId).execute();
    const first = byName[0];
    if (!first) throw new NetworkError('sg-not-found', `Security group ${nameOrId} not found.`);
    if (byName.length > 1) {
      throw new NetworkError('sg-no-unique-match', `Multiple security_group matches found for name '${nameOrId}', use an ID to be more specific.`);
    }
    return first;
  }

  async createSecurityGroup(projectId: string, name: string, description: string): Promise<SecurityGroupRow> {
    await this.ensureDefaultSecurityGroup(projectId);
    if (name.toLowerCase() === 'default') throw new NetworkError('sg-default', 'Default security group already exists.');
    const row: SecurityGroupRow = { id: randomUUID(), project_id: projectId, name, description, created_at: isoMicro(this.clock.now()) };
    await this.db.insertInto('security_groups').values(row).execute();
    return row;
  }

  async updateSecurityGroup(sg: SecurityGroupRow, name: string, description: string): Promise<SecurityGroupRow> {
    if (sg.name === 'default' && name !== 'default') throw new NetworkError('sg-default', 'Insufficient rights for removing default security group.');
    await this.db.updateTable('security_groups').set({ name, description }).where('id', '=', sg.id).execute();
    // Servers name their groups; keep their lists in step with the rename.
    if (name !== sg.name) {
      for (const inst of await this.serversUsing(sg)) {
        const names = (JSON.parse(inst.security_groups) as string[]).map((g) => (g === sg.name || g === sg.id ? name : g));
        await touchInstance(this.db, inst.uuid, { security_groups: JSON.stringify(names) });
      }
    }
    return { ...sg, name, description };
  }

  /** Live servers of the group's project that are members of the group. */
  private async serversUsing(sg: SecurityGroupRow): Promise<{ uuid: string; security_groups: string }[]> {
    const rows = await this.db
      .selectFrom('instances')
      .select(['uuid', 'security_groups'])
      .where('project_id', '=', sg.project_id)
      .where('deleted', '=', 0)
      .execute();
    return rows.filter((r) => (JSON.parse(r.security_groups) as string[]).some((g) => g === sg.name || g === sg.id));
  }

  /** Deletes a group; one in use by a server, or a project's `default`, is refused as Neutron does. */
  async deleteSecurityGroup(sg: SecurityGroupRow): Promise<void> {
    if (sg.name === 'default') throw new NetworkError('sg-default', 'Insufficient rights for removing default security group.');
    if ((await this.serversUsing(sg)).length > 0) throw new NetworkError('sg-in-use', `Security Group ${sg.id} in use.`);
    await this.db.deleteFrom('security_groups').where('id', '=', sg.id).execute();
  }

  /** Whether a server's group list names the group (by name or id). */
  static memberOf(groups: string[], sg: SecurityGroupRow): boolean {
    return groups.some((g) => g === sg.name || g === sg.id);
  }

  /**
   * Adds a group to a server (Neutron: to each of its ports). A server
   * without ports, or one already in the group, is refused.
   */
  async addSecurityGroupToServer(inst: { uuid: string; security_groups: string }, sg: SecurityGroupRow): Promise<void> {
    const ports = await this.db.selectFrom('ports').select('id').where('instance_uuid', '=', inst.uuid).execute();
    if (ports.length === 0) throw new NetworkError('no-ports', `instance_id ${inst.uuid} could not be found as device id on any ports`);
    const groups = JSON.parse(inst.security_groups) as string[];
    if (NetworkModel.memberOf(groups, sg)) {
      throw new NetworkError('sg-duplicate-on-port', `Invalid input for security_groups. Reason: Duplicate items in the list: '${sg.id}'.`);
    }
    await touchInstance(this.db, inst.uuid, { security_groups: JSON.stringify([...groups, sg.name]) });
  }

  /** Removes a group from a server; a server not in it is refused. */
  async removeSecurityGroupFromServer(inst: { uuid: string; security_groups: string }, sg: SecurityGroupRow, asked: string): Promise<void> {
    const ports = await this.db.selectFrom('ports').select('id').where('instance_uuid', '=', inst.uuid).execute();
    if (ports.length === 0) throw new NetworkError('no-ports', `instance_id ${inst.uuid} could not be found as device id on any ports`);
    const groups = JSON.parse(inst.security_groups) as string[];
    if (!NetworkModel.memberOf(groups, sg)) {
      throw new NetworkError('sg-not-associated', `Security group ${asked} not associated with the instance ${inst.uuid}`);
    }
    await touchInstance(this.db, inst.uuid, { security_groups: JSON.stringify(groups.filter((g) => g !== sg.name && g !== sg.id)) });
  }
}
