import { createHash } from 'node:crypto';
import type { ApiVersion } from '../../api/microversion.js';
import type { Urls } from '../../api/route.js';
import { isoSeconds } from '../../lib/time.js';
import type { Address } from '../../network/model.js';
import { FAULT_STATUSES, PROGRESS_STATUSES, VmState, statusOf } from '../states.js';
import { flavorOf, instanceName, type FaultInfo, type Instance } from './repo.js';

/** Everything a server body shows beyond its own row, fetched in batches. */
export interface ServerExtras {
  metadata: Record<string, string>;
  tags: string[];
  addresses: Record<string, Address[]>;
  fault: FaultInfo | undefined;
  /** host_status (2.16+) when the caller may see it, else undefined. */
  hostStatus: string | undefined;
  /** 2.71 (show, PUT, rebuild): the uuids of the server groups the server is in. */
  serverGroups?: string[];
}

export interface ViewOptions {
  mv: ApiVersion;
  urls: Urls;
  /** os-extended-server-attributes allowed. */
  extended: boolean;
  /** The caller is an admin (fault details for 500s). */
  isAdmin: boolean;
  /** 2.47+: extra specs in the embedded flavor allowed. */
  flavorExtraSpecs: boolean;
  /** Show only (and PUT/rebuild): 2.71 server_groups. */
  single: boolean;
}

export function hostId(projectId: string, host: string | null): string {
  if (!host) return '';
  return createHash('sha224').update(projectId + host).digest('hex');
}

export function links(urls: Urls, kind: string, id: string): { rel: string; href: string }[] {
  return [
    { rel: 'self', href: `${urls.versioned}/${kind}/${id}` },
    { rel: 'bookmark', href: `${urls.bookmark}/${kind}/${id}` },
  ];
}

/** The short form used by GET /servers. */
export function serverSummary(i: Pick<Instance, 'uuid' | 'display_name'>, urls: Urls): Record<string, unknown> {
  return { id: i.uuid, name: i.display_name, links: links(urls, 'servers', i.uuid) };
}

function renderAddresses(addrs: Record<string, Address[]>): Record<string, unknown[]> {
  const out: Record<string, unknown[]> = {};
  for (const [net, list] of Object.entries(addrs)) {
    out[net] = list.map((a) => ({ version: a.version, addr: a.addr, 'OS-EXT-IPS:type': a.type, 'OS-EXT-IPS-MAC:mac_addr': a.mac }));
  }
  return out;
}

/** The full server body at a microversion (show, detail, PUT and rebuild). */
export function serverDetail(i: Instance, x: ServerExtras, o: ViewOptions): Record<string, unknown> {
  const { mv, urls } = o;
  const status = statusOf(i.vm_state, i.task_state);
  const f = flavorOf(i);
  const body: Record<string, unknown> = {
    id: i.uuid,
    name: i.display_name,
    status,
    tenant_id: i.project_id,
    user_id: i.user_id,
    metadata: x.metadata,
    hostId: hostId(i.project_id, i.host),
    image: i.image_ref
      ? { id: i.image_ref, links: [{ rel: 'bookmark', href: `${urls.bookmark}/images/${i.image_ref}` }] }
      : '',
    flavor: mv.ge('2.47')
      ? {
          vcpus: f.vcpus,
          ram: f.memory_mb,
          disk: f.root_gb,
          ephemeral: f.ephemeral_gb,
          swap: f.swap,
          original_name: f.name,
          ...(o.flavorExtraSpecs ? { extra_specs: f.extra_specs } : {}),
        }
      : { id: f.flavorid, links: [{ rel: 'bookmark', href: `${urls.bookmark}/flavors/${f.flavorid}` }] },
    created: isoSeconds(i.created_at),
    updated: isoSeconds(i.updated_at),
    addresses: i.vm_state === VmState.BUILDING ? {} : renderAddresses(x.addresses),
    accessIPv4: i.access_ip_v4 ?? '',
    accessIPv6: i.access_ip_v6 ?? '',
    links: links(urls, 'servers', i.uuid),
    'OS-DCF:diskConfig': i.disk_config,
    'OS-EXT-AZ:availability_zone': i.availability_zone ?? '',
    config_drive: i.config_drive,
    key_name: i.key_name,
    'OS-SRV-USG:launched_at': i.launched_at,
    'OS-SRV-USG:terminated_at': i.terminated_at,
    'OS-EXT-STS:task_state': i.task_state,
    'OS-EXT-STS:vm_state': i.vm_state,
    'OS-EXT-STS:power_state': i.power_state,
    'os-extended-volumes:volumes_attached': [],
  };
  if (PROGRESS_STATUSES.has(status)) body.progress = i.progress;
  const groups = JSON.parse(i.security_groups) as string[];
  if (groups.length > 0 && Object.keys(x.addresses).length > 0) body.security_groups = groups.map((name) => ({ name }));
  if (o.extended) {
    body['OS-EXT-SRV-ATTR:host'] = i.host;
    body['OS-EXT-SRV-ATTR:instance_name'] = instanceName(i);
    body['OS-EXT-SRV-ATTR:hypervisor_hostname'] = i.node;
    if (mv.ge('2.3')) {
      body['OS-EXT-SRV-ATTR:reservation_id'] = i.reservation_id;
      body['OS-EXT-SRV-ATTR:launch_index'] = i.launch_index;
      body['OS-EXT-SRV-ATTR:hostname'] = i.hostname;
      body['OS-EXT-SRV-ATTR:kernel_id'] = i.kernel_id;
      body['OS-EXT-SRV-ATTR:ramdisk_id'] = i.ramdisk_id;
      body['OS-EXT-SRV-ATTR:root_device_name'] = i.root_device_name;
      body['OS-EXT-SRV-ATTR:user_data'] = i.user_data;
    }
  } else if (mv.ge('2.90')) {
    body['OS-EXT-SRV-ATTR:hostname'] = i.hostname;
  }
  if (mv.ge('2.9')) body.locked = i.locked === 1;
  if (mv.ge('2.16') && x.hostStatus !== undefined) body.host_status = x.hostStatus;
  if (mv.ge('2.19')) body.description = i.display_description;
  if (mv.ge('2.26')) body.tags = x.tags;
  if (mv.ge('2.63')) body.trusted_image_certificates = null;
  if (mv.ge('2.71') && o.single) body.server_groups = x.serverGroups ?? [];
  if (mv.ge('2.73')) body.locked_reason = i.locked_reason;
  if (mv.ge('2.96')) body.pinned_availability_zone = i.requested_az;
  if (mv.ge('2.100')) body.scheduler_hints = JSON.parse(i.scheduler_hints) as unknown;
  if (FAULT_STATUSES.has(status) && x.fault) {
    const fault: Record<string, unknown> = { code: x.fault.code, created: isoSeconds(x.fault.created_at), message: x.fault.message };
    if (o.isAdmin || x.fault.code !== 500) fault.details = x.fault.details;
    body.fault = fault;
  }
  return body;
}
