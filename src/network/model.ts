import { randomBytes, randomUUID } from 'node:crypto';
import type { Db } from '../db/index.js';
import type { Clock } from '../lib/clock.js';
import { isoMicro } from '../lib/time.js';
import { badRequest, conflict } from '../errors.js';
import type { PortRow } from '../compute/tables.js';

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

export const DEFAULT_NETWORK = { name: 'private', cidr: '10.0.0.0/16', cidrV6: 'fd9a:57a5:d2b2::/64' };

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
    const nets = await this.db.selectFrom('networks').selectAll().execute();
    for (const n of nets) {
      const { base, size } = parseCidr(n.cidr);
      this.pools.set(n.id, { base, size, v6Prefix: n.cidr_v6 ? n.cidr_v6.split('/')[0]?.replace(/::$/, '') ?? null : null, used: new Set(), cursor: 2 });
    }
    const ports = await this.db.selectFrom('ports').select(['network_id', 'fixed_ip_v4']).execute();
    for (const p of ports) {
      if (p.fixed_ip_v4) this.pools.get(p.network_id)?.used.add(ipv4ToInt(p.fixed_ip_v4));
    }
  }

  async networksVisibleTo(projectId: string | null): Promise<{ id: string; name: string }[]> {
    const rows = await this.db.selectFrom('networks').select(['id', 'name', 'project_id', 'shared']).orderBy('created_at').execute();
    return rows.filter((r) => r.shared === 1 || r.project_id === projectId).map((r) => ({ id: r.id, name: r.name }));
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
      const v6 = pool.v6Prefix ? `${pool.v6Prefix}:f816:3eff:fe${mac.slice(9, 11)}:${mac.slice(12, 14)}${mac.slice(15, 17)}` : null;
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
    await this.db.deleteFrom('ports').where('instance_uuid', '=', instanceUuid).execute();
    for (const p of ports) if (p.fixed_ip_v4) this.pools.get(p.network_id)?.used.delete(ipv4ToInt(p.fixed_ip_v4));
  }

  /** Addresses of many servers at once, grouped by network name (Nova's `addresses`). */
  async addressesOf(instanceUuids: string[]): Promise<Map<string, Record<string, Address[]>>> {
    const out = new Map<string, Record<string, Address[]>>();
    if (instanceUuids.length === 0) return out;
    const rows: (PortRow & { network_name: string })[] = [];
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
    }
    for (const r of rows) {
      if (!r.instance_uuid) continue;
      const byNet = out.get(r.instance_uuid) ?? {};
      const list = byNet[r.network_name] ?? [];
      if (r.fixed_ip_v4) list.push({ version: 4, addr: r.fixed_ip_v4, type: 'fixed', mac: r.mac_address });
      if (r.fixed_ip_v6) list.push({ version: 6, addr: r.fixed_ip_v6, type: 'fixed', mac: r.mac_address });
      byNet[r.network_name] = list;
      out.set(r.instance_uuid, byNet);
    }
    return out;
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
}
