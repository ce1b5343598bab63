import { randomBytes, randomUUID } from 'node:crypto';
import type { Insertable } from 'kysely';
import type { ComputeRequest, Reply } from '../../api/route.js';
import { ApiError, badRequest, forbidden } from '../../errors.js';
import { isoMicro } from '../../lib/time.js';
import { Mutex } from '../../lib/mutex.js';
import type { NicRequest } from '../../network/model.js';
import { CONDUCTOR_TOPIC, type BuildRequest } from '../conductor.js';
import type { ComputeDeps } from '../deps.js';
import { findFlavor, flavorSnapshot } from '../resources/flavors-repo.js';
import { findKeypair } from '../resources/keypairs.js';
import { availabilityZoneNames } from '../resources/availability-zones.js';
import { checkInstanceQuota, checkMetadataItemsQuota, checkServerGroupMembersQuota, quotaLimits } from '../resources/quota.js';
import { addMembers, countUserMembers, findGroup } from '../server-groups/repo.js';
import { pyRepr } from '../../api/validation.js';
import { PowerState, TaskState, VmState } from '../states.js';
import type { InstanceRow } from '../tables.js';
import { authorize } from './common.js';
import { recordActionStart } from '../actions/record.js';
import { SP } from './policies.js';
import { insertInstances, touchInstance, type InsertInstance } from './repo.js';
import { asBool } from './schema.js';
import { links } from './view.js';

interface ServerBody {
  name: string;
  imageRef?: string;
  flavorRef: string | number;
  adminPass?: string;
  metadata?: Record<string, string>;
  networks?: 'auto' | 'none' | { uuid?: string; port?: string | null; fixed_ip?: string; tag?: string }[];
  'OS-DCF:diskConfig'?: 'AUTO' | 'MANUAL';
  accessIPv4?: string;
  accessIPv6?: string;
  personality?: { path: string; contents: string }[];
  availability_zone?: string;
  block_device_mapping?: unknown[];
  block_device_mapping_v2?: {
    source_type?: string;
    destination_type?: string;
    boot_index?: number | string | null;
    uuid?: string;
    volume_size?: number | string | null;
  }[];
  config_drive?: boolean | string;
  key_name?: string;
  min_count?: number | string;
  max_count?: number | string;
  return_reservation_id?: boolean | string;
  security_groups?: { name?: string }[];
  user_data?: string;
  description?: string | null;
  tags?: string[];
  trusted_image_certificates?: string[] | null;
  host?: string;
  hypervisor_hostname?: string;
  hostname?: string;
}

const UUID_RE = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;
const BASE64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Nova's generated admin password: 12 characters without look-alikes. */
export function generatePassword(length = 12): string {
  const symbols = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789';
  const bytes = randomBytes(length);
  return [...bytes].map((b) => symbols[b % symbols.length]).join('');
}

/** Nova's sanitize_hostname: what a display name becomes as a hostname. */
export function sanitizeHostname(name: string, fallback: string): string {
  let h = name.toLowerCase().replace(/[ _]/g, '-').replace(/[^\w.-]+/g, '').replace(/_/g, '');
  h = h.slice(0, 63).replace(/^[.-]+|[.-]+$/g, '');
  return h === '' ? fallback : h;
}

function decodeBase64(value: string): Buffer | null {
  const compact = value.replace(/\s+/g, '');
  if (!BASE64_RE.test(compact)) return null;
  return Buffer.from(compact, 'base64');
}

function reservationId(): string {
  const chars = 'abcdefghijklmnopqrstuvwxyz0123456789';
  return `r-${[...randomBytes(8)].map((b) => chars[b % chars.length]).join('')}`;
}

/**
 * Validates the scheduler hints Nova's schema constrains (group: a uuid or a
 * list of them; different_host: a uuid or a list of them; same_host: a string
 * or a list of them) and returns the requested group's uuid, or null.
 */
function checkSchedulerHints(hints: Record<string, unknown>): string | null {
  const invalid = (field: string, v: unknown) =>
    badRequest(`Invalid input for field/attribute ${field}. Value: ${typeof v === 'string' ? v : JSON.stringify(v)}. ${pyRepr(v)} is not valid under any of the given schemas`);
  const uuidOrList = (field: string, v: unknown): string[] => {
    if (typeof v === 'string' && UUID_RE.test(v)) return [v];
    if (Array.isArray(v) && v.every((x) => typeof x === 'string' && UUID_RE.test(x))) return v as string[];
    throw invalid(field, v);
  };
  if (hints.different_host !== undefined) uuidOrList('different_host', hints.different_host);
  const same = hints.same_host;
  if (same !== undefined && typeof same !== 'string' && !(Array.isArray(same) && same.every((x) => typeof x === 'string'))) {
    throw badRequest(`Invalid input for field/attribute same_host. Value: ${JSON.stringify(same)}. ${pyRepr(same)} is not of type 'string', 'array'`);
  }
  if (hints.group === undefined) return null;
  return uuidOrList('group', hints.group)[0] ?? null;
}

/** Quota checks and inserts run one create at a time, so two creates cannot both take the last slot. */
const creating = new Mutex();

export async function createServer(deps: ComputeDeps, req: ComputeRequest): Promise<Reply> {
  const { db, config, clock, network } = deps;
  const { ctx, mv } = req;
  const projectId = ctx.projectId;
  if (projectId === null) throw forbidden('A project-scoped token is required to create servers.');
  const body = req.body as { server: ServerBody; 'os:scheduler_hints'?: Record<string, unknown>; 'OS-SCH-HNT:scheduler_hints'?: Record<string, unknown> };
  const s = body.server;
  const target = { project_id: projectId, user_id: ctx.userId };
  authorize(deps, req, SP.create, target);

  // Flavor and image.
  const flavor = await findFlavor(db, s.flavorRef, { projectId, isAdmin: ctx.isAdmin });
  if (!flavor) throw badRequest(`Flavor ${String(s.flavorRef)} could not be found.`);
  if (flavor.disabled) throw badRequest('Flavor is disabled.');
  const bdms = s.block_device_mapping_v2 ?? [];
  let imageRef = s.imageRef ?? '';
  for (const b of bdms) {
    if (b.source_type === 'volume' || b.source_type === 'snapshot' || b.destination_type === 'volume') {
      throw badRequest('Block Device Mapping is Invalid: volumes are not available in this cloud.');
    }
    const bootIndex = b.boot_index === undefined || b.boot_index === null ? null : Number(b.boot_index);
    if (b.source_type === 'image' && bootIndex === 0) {
      if (!b.uuid) throw badRequest('Block Device Mapping is Invalid: image source requires a uuid.');
      if (imageRef && imageRef !== b.uuid) throw badRequest('Block Device Mapping is Invalid: boot image does not match imageRef.');
      imageRef = b.uuid;
    }
  }
  if (s.block_device_mapping && s.block_device_mapping.length > 0 && bdms.length > 0) {
    throw badRequest('Using different block_device_mapping syntaxes is not allowed in the same request.');
  }
  if (!imageRef) throw badRequest('Block Device Mapping is Invalid: Boot sequence for the instance and image/block device mapping combination is not valid.');
  const image = await deps.images.get(imageRef, projectId, ctx.isAdmin);
  if (!image) throw badRequest(`Image ${imageRef} could not be found.`);
  if (image.status !== 'active') throw badRequest(`Image ${imageRef} is not active.`);
  if (image.min_ram > flavor.memory_mb) throw badRequest("Flavor's memory is too small for requested image.");
  if (flavor.root_gb > 0 && image.min_disk > flavor.root_gb) throw badRequest("Flavor's disk is too small for requested image.");
  if (flavor.root_gb === 0) authorize(deps, req, SP.createZeroDiskFlavor, target);

  // Key pair.
  let keyData: string | null = null;
  if (s.key_name !== undefined) {
    const kp = await findKeypair(db, ctx.userId, s.key_name);
    if (!kp) throw badRequest('Invalid key_name provided.');
    keyData = kp.public_key;
  }

  // Metadata, personality and user data limits.
  const metadata = s.metadata ?? {};
  await checkMetadataItemsQuota(db, config, projectId, Object.keys(metadata).length);
  if (s.personality && s.personality.length > 0) {
    const limits = await quotaLimits(db, config, projectId);
    if (limits.injected_files >= 0 && s.personality.length > limits.injected_files) throw forbidden('Personality file limit exceeded');
    for (const file of s.personality) {
      if (limits.injected_file_path_bytes >= 0 && Buffer.byteLength(file.path) > limits.injected_file_path_bytes) {
        throw forbidden(`Personality file path exceeds maximum ${limits.injected_file_path_bytes}`);
      }
      const decoded = decodeBase64(file.contents);
      if (!decoded) throw badRequest(`Personality content for ${file.path} cannot be decoded`);
      if (limits.injected_file_content_bytes >= 0 && decoded.length > limits.injected_file_content_bytes) {
        throw forbidden(`Personality file content exceeds maximum ${limits.injected_file_content_bytes}`);
      }
    }
  }
  if (s.user_data !== undefined && decodeBase64(s.user_data) === null) {
    throw badRequest(`Invalid input for field/attribute user_data. Value: ${s.user_data}. '${s.user_data}' is not a 'base64'`);
  }

  // Placement requests.
  const zones = new Set(availabilityZoneNames(deps));
  let requestedAz: string | null = null;
  let forcedHost: string | null = null;
  let forcedNode: string | null = null;
  if (s.availability_zone !== undefined) {
    const [az = '', host, node] = s.availability_zone.split(':');
    if (host !== undefined || node !== undefined) {
      authorize(deps, req, SP.createForcedHost, target);
      forcedHost = host || null;
      forcedNode = node || null;
    }
    if (az !== '') {
      if (!zones.has(az)) throw badRequest('The requested availability zone is not available');
      requestedAz = az;
    }
  }
  if (s.host !== undefined || s.hypervisor_hostname !== undefined) {
    authorize(deps, req, SP.createRequestedDestination, target);
    if (s.host !== undefined && !config.compute.hosts.some((h) => h.name === s.host)) {
      throw badRequest(`Compute host ${s.host} could not be found.`);
    }
    if (s.hypervisor_hostname !== undefined && !config.compute.hosts.some((h) => h.name === s.hypervisor_hostname)) {
      throw badRequest(`Compute host ${s.hypervisor_hostname} could not be found.`);
    }
    forcedHost = s.host ?? forcedHost;
    forcedNode = s.hypervisor_hostname ?? forcedNode;
  }
  if (s.trusted_image_certificates) authorize(deps, req, SP.createTrustedCerts, target);

  // Networks.
  let nicRequest: 'auto' | 'none' | NicRequest[] | undefined;
  if (s.networks === 'auto' || s.networks === 'none') nicRequest = s.networks;
  else if (s.networks !== undefined) {
    authorize(deps, req, SP.createAttachNetwork, target);
    nicRequest = s.networks.map((n) => {
      if (n.port) return { portId: n.port };
      if (n.uuid === undefined) throw badRequest('Bad network format: missing uuid');
      if (!UUID_RE.test(n.uuid)) throw badRequest(`Bad networks format: network uuid is not in proper format (${n.uuid})`);
      return { networkId: n.uuid, ...(n.fixed_ip !== undefined ? { fixedIp: n.fixed_ip } : {}), ...(n.tag !== undefined ? { tag: n.tag } : {}) };
    });
  }
  const nics = await network.resolveRequest(projectId, nicRequest);

  // Security groups.
  const groups = [...new Set((s.security_groups ?? [{ name: 'default' }]).map((g) => g.name ?? 'default'))];
  for (const g of groups) {
    if (!(await network.securityGroupExists(projectId, g))) throw badRequest(`Security group ${g} not found for project ${projectId}.`);
  }
  await network.ensureDefaultSecurityGroup(projectId);

  // Counts.
  const minCount = Number(s.min_count ?? 1);
  const maxCount = Number(s.max_count ?? minCount);
  if (minCount > maxCount) throw badRequest('min_count must be <= max_count');
  if (s.hostname !== undefined && maxCount > 1 && !mv.ge('2.90')) throw badRequest('Unable to set hostname for multiple instances.');

  const adminPass = s.adminPass ?? generatePassword();
  const reservation = reservationId();
  const hints = body['os:scheduler_hints'] ?? body['OS-SCH-HNT:scheduler_hints'] ?? {};
  const groupUuid = checkSchedulerHints(hints);
  let group: { uuid: string } | null = null;
  if (groupUuid !== null) {
    const g = await findGroup(db, groupUuid);
    // Another project's group is not visible to its non-admin callers.
    if (!g || (g.project_id !== projectId && !ctx.isAdmin)) throw badRequest(`Instance group ${groupUuid} could not be found.`);
    group = g;
  }
  const snapshot = flavorSnapshot(flavor);
  const uuids: string[] = [];

  await creating.run(async () => {
    const count = await checkInstanceQuota(db, config, projectId, ctx.userId, { vcpus: flavor.vcpus, memory_mb: flavor.memory_mb }, minCount, maxCount);
    if (group) await checkServerGroupMembersQuota(db, config, projectId, ctx.userId, await countUserMembers(db, group.uuid, ctx.userId), count);
    const now = isoMicro(clock.now());
    const items: InsertInstance[] = [];
    for (let i = 0; i < count; i++) {
      const uuid = randomUUID();
      uuids.push(uuid);
      const displayName = count > 1 ? `${s.name}-${i + 1}` : s.name;
      const hostname =
        s.hostname !== undefined ? (count > 1 ? `${s.hostname}-${i + 1}` : s.hostname) : sanitizeHostname(displayName, `Server-${uuid}`);
      const row: Insertable<InstanceRow> = {
        uuid,
        project_id: projectId,
        user_id: ctx.userId,
        display_name: displayName,
        display_description: s.description === undefined ? (mv.ge('2.19') ? null : displayName) : s.description,
        hostname,
        image_ref: imageRef,
        flavor: JSON.stringify(snapshot),
        flavor_id: flavor.flavorid,
        vcpus: flavor.vcpus,
        memory_mb: flavor.memory_mb,
        root_gb: flavor.root_gb,
        ephemeral_gb: flavor.ephemeral_gb,
        vm_state: VmState.BUILDING,
        task_state: TaskState.SCHEDULING,
        power_state: PowerState.NOSTATE,
        host: null,
        node: null,
        availability_zone: requestedAz,
        requested_az: requestedAz,
        launched_at: null,
        terminated_at: null,
        created_at: now,
        updated_at: now,
        deleted_at: null,
        deleted: 0,
        key_name: s.key_name ?? null,
        key_data: keyData,
        user_data: s.user_data ?? null,
        config_drive: s.config_drive !== undefined && asBool(s.config_drive) ? 'True' : '',
        access_ip_v4: s.accessIPv4 ?? null,
        access_ip_v6: s.accessIPv6 ?? null,
        disk_config: s['OS-DCF:diskConfig'] ?? 'MANUAL',
        progress: 0,
        reservation_id: reservation,
        launch_index: i,
        root_device_name: '/dev/vda',
        kernel_id: '',
        ramdisk_id: '',
        locked: 0,
        locked_by: null,
        locked_reason: null,
        security_groups: JSON.stringify(groups),
        scheduler_hints: JSON.stringify(hints),
        block_device_mapping: JSON.stringify(bdms),
        requested_networks: JSON.stringify(nics),
      };
      items.push({ row, metadata, tags: [...new Set(s.tags ?? [])] });
    }
    await insertInstances(db, items);
    if (group) {
      await addMembers(db, group.uuid, uuids, now);
      // Membership is part of the 2.71 body: never serve a render from before it.
      for (const uuid of uuids) await touchInstance(db, uuid);
    }
    for (const uuid of uuids) {
      await recordActionStart(db, { action: 'create', instanceUuid: uuid, requestId: req.requestId, userId: ctx.userId, projectId, now });
    }
  });

  const builds: BuildRequest[] = uuids.map((uuid) => ({ uuid, adminPass, requestId: req.requestId, requestedHost: forcedHost, requestedNode: forcedNode }));
  deps.bus.cast(CONDUCTOR_TOPIC, 'build_instances', { builds });

  if (s.return_reservation_id !== undefined && asBool(s.return_reservation_id)) {
    return { status: 202, body: { reservation_id: reservation } };
  }
  const first = uuids[0];
  if (first === undefined) throw new ApiError(500, 'No server was created.');
  const serverLinks = links(req.urls, 'servers', first);
  return {
    status: 202,
    headers: { location: serverLinks[0]?.href ?? '' },
    body: {
      server: {
        id: first,
        links: serverLinks,
        'OS-DCF:diskConfig': s['OS-DCF:diskConfig'] ?? 'MANUAL',
        security_groups: groups.map((name) => ({ name })),
        adminPass,
      },
    },
  };
}
