import { Type, type TSchema } from '@sinclair/typebox';
import type { ComputeRequest, Reply } from '../../api/route.js';
import { schemaFor, type SchemaRange } from '../../api/validation.js';
import { badRequest, forbidden } from '../../errors.js';
import { PROJECT_MEMBER_OR_ADMIN } from '../../policy/base.js';
import type { PolicyDefault } from '../../policy/types.js';
import type { ComputeDeps } from '../deps.js';
import { findKeypair } from '../resources/keypairs.js';
import { checkMetadataItemsQuota, quotaLimits } from '../resources/quota.js';
import { authorize, renderOne, targetOf } from '../servers/common.js';
import { generatePassword } from '../servers/create.js';
import { flavorOf, touchInstance, type Instance, type InstanceUpdate } from '../servers/repo.js';
import { obj, P } from '../servers/schema.js';
import { links } from '../servers/view.js';
import { VmState } from '../states.js';
import { decodeBase64 } from './image-support.js';
import { begin, castToHost, check } from './start.js';
import type { ActionDef } from './types.js';

/**
 * rebuild: the server gets a new image (and optionally a new name,
 * metadata, password, key pair, user data, hostname...) and its guest is
 * destroyed and spawned again on the same host (src/agent/actions/rebuild.ts).
 */
const POLICY = {
  rebuild: 'os_compute_api:servers:rebuild',
  trustedCerts: 'os_compute_api:servers:rebuild:trusted_certs',
};

const op = [{ method: 'POST', path: '/servers/{server_id}/action (rebuild)' }];

export const rebuildPolicies: PolicyDefault[] = [
  { name: POLICY.rebuild, check: PROJECT_MEMBER_OR_ADMIN, description: 'Rebuild a server', operations: op },
  {
    name: POLICY.trustedCerts,
    check: PROJECT_MEMBER_OR_ADMIN,
    description: 'Rebuild a server with trusted image certificate IDs',
    operations: op,
  },
];

interface RebuildBody {
  imageRef: string;
  name?: string;
  adminPass?: string;
  metadata?: Record<string, string>;
  preserve_ephemeral?: boolean | string;
  'OS-DCF:diskConfig'?: 'AUTO' | 'MANUAL';
  accessIPv4?: string;
  accessIPv6?: string;
  personality?: { path?: string; contents?: string }[];
  description?: string | null;
  key_name?: string | null;
  user_data?: string | null;
  trusted_image_certificates?: string[] | null;
  hostname?: string;
}

interface Features {
  description: boolean;
  keyName: boolean;
  personality: boolean;
  userData: boolean;
  trustedCerts: boolean;
  hostname: 'none' | 'short' | 'fqdn';
}

function rebuildSchema(f: Features): TSchema {
  return obj(
    {
      rebuild: obj(
        {
          name: P.name,
          imageRef: P.uuid,
          adminPass: Type.String(),
          metadata: P.metadata,
          preserve_ephemeral: P.boolean,
          'OS-DCF:diskConfig': P.diskConfig,
          accessIPv4: P.ipv4,
          accessIPv6: P.ipv6,
          ...(f.personality ? { personality: Type.Array(obj({ path: Type.String(), contents: Type.String() })) } : {}),
          ...(f.description ? { description: P.description } : {}),
          ...(f.keyName ? { key_name: Type.Union([Type.String({ minLength: 1, maxLength: 255 }), Type.Null()]) } : {}),
          ...(f.userData ? { user_data: Type.Union([Type.String({ maxLength: 65535 }), Type.Null()]) } : {}),
          ...(f.trustedCerts
            ? { trusted_image_certificates: Type.Union([Type.Array(Type.String({ minLength: 1 }), { minItems: 1, maxItems: 50, uniqueItems: true }), Type.Null()]) }
            : {}),
          ...(f.hostname === 'short' ? { hostname: P.hostname } : f.hostname === 'fqdn' ? { hostname: P.fqdn } : {}),
        },
        ['imageRef'],
      ),
    },
    ['rebuild'],
  );
}

const none: Features = { description: false, keyName: false, personality: true, userData: false, trustedCerts: false, hostname: 'none' };
const ranges: [string, string | undefined, Partial<Features>][] = [
  ['2.1', '2.18', {}],
  ['2.19', '2.53', { description: true }],
  ['2.54', '2.56', { description: true, keyName: true }],
  ['2.57', '2.62', { description: true, keyName: true, personality: false, userData: true }],
  ['2.63', '2.89', { description: true, keyName: true, personality: false, userData: true, trustedCerts: true }],
  ['2.90', '2.93', { description: true, keyName: true, personality: false, userData: true, trustedCerts: true, hostname: 'short' }],
  ['2.94', undefined, { description: true, keyName: true, personality: false, userData: true, trustedCerts: true, hostname: 'fqdn' }],
];
const rebuildBody = schemaFor(...ranges.map(([min, max, f]): SchemaRange => ({ min, ...(max ? { max } : {}), schema: rebuildSchema({ ...none, ...f }) })));

const notBase64 = (field: string, value: string) => badRequest(`Invalid input for field/attribute ${field}. Value: ${value}. '${value}' is not a 'base64'`);

/** Nova's injected-file limits for rebuild's personality (below 2.57). */
async function checkPersonality(deps: ComputeDeps, projectId: string, files: { path?: string; contents?: string }[]): Promise<void> {
  if (files.length === 0) return;
  const limits = await quotaLimits(deps.db, deps.config, projectId);
  if (limits.injected_files >= 0 && files.length > limits.injected_files) throw forbidden('Personality file limit exceeded');
  for (const f of files) {
    const path = f.path ?? '';
    if (limits.injected_file_path_bytes >= 0 && Buffer.byteLength(path) > limits.injected_file_path_bytes) {
      throw forbidden(`Personality file path exceeds maximum ${limits.injected_file_path_bytes}`);
    }
    const size = decodeBase64(f.contents ?? '')?.length ?? 0;
    if (limits.injected_file_content_bytes >= 0 && size > limits.injected_file_content_bytes) {
      throw forbidden(`Personality file content exceeds maximum ${limits.injected_file_content_bytes}`);
    }
  }
}

/**
 * The rebuild answer below 2.75 is Nova's reduced show view: no
 * availability zone, config drive, usage times, security groups, extended
 * attributes or status, volumes, host_status; key_name only from 2.54;
 * addresses without their type and MAC.
 */
function reducedView(server: Record<string, unknown>, req: ComputeRequest): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(server)) {
    if (k.startsWith('OS-EXT-') || k.startsWith('OS-SRV-USG:') || k.startsWith('os-extended-volumes:')) continue;
    if (['config_drive', 'security_groups', 'host_status', 'pinned_availability_zone'].includes(k)) continue;
    if (k === 'key_name' && !req.mv.ge('2.54')) continue;
    out[k] = v;
  }
  const addrs = server.addresses as Record<string, { version: number; addr: string }[]> | undefined;
  if (addrs) out.addresses = Object.fromEntries(Object.entries(addrs).map(([net, list]) => [net, list.map((a) => ({ version: a.version, addr: a.addr }))]));
  return out;
}

async function rebuild(deps: ComputeDeps, req: ComputeRequest, inst: Instance): Promise<Reply> {
  const { mv, ctx } = req;
  const r = (req.body as { rebuild: RebuildBody }).rebuild;
  // Formats Nova's schema checks (base64), before anything else.
  if (mv.ge('2.57') && typeof r.user_data === 'string' && decodeBase64(r.user_data) === null) throw notBase64('user_data', r.user_data);
  for (const f of r.personality ?? []) {
    if (f.contents !== undefined && decodeBase64(f.contents) === null) throw notBase64('contents', f.contents);
  }
  const password = r.adminPass ?? generatePassword();
  authorize(deps, req, POLICY.rebuild, targetOf(inst));
  if (mv.ge('2.63') && 'trusted_image_certificates' in r) authorize(deps, req, POLICY.trustedCerts, targetOf(inst));
  check(deps, req, inst, { policy: POLICY.rebuild, target: 'owner', stateAction: 'rebuild', vmStates: [VmState.ACTIVE, VmState.STOPPED, VmState.ERROR] });

  const values: InstanceUpdate = { task_state: 'rebuilding', image_ref: r.imageRef, progress: 0 };
  if (mv.ge('2.54') && 'key_name' in r) {
    if (r.key_name === null || r.key_name === undefined) {
      values.key_name = null;
      values.key_data = null;
    } else {
      const kp = await findKeypair(deps.db, ctx.userId, r.key_name);
      if (!kp) throw badRequest('Invalid key_name provided.');
      values.key_name = kp.name;
      values.key_data = kp.public_key;
    }
  }
  const projectId = ctx.projectId ?? inst.project_id;
  const image = await deps.images.get(r.imageRef, ctx.projectId, ctx.isAdmin);
  if (!image) throw badRequest('Cannot find image for rebuild');
  if (r.metadata !== undefined) await checkMetadataItemsQuota(deps.db, deps.config, projectId, Object.keys(r.metadata).length);
  await checkPersonality(deps, projectId, r.personality ?? []);
  const flavor = flavorOf(inst);
  if (image.status !== 'active') throw badRequest(`Image ${r.imageRef} is not active.`);
  if (image.min_ram > flavor.memory_mb) throw badRequest("Flavor's memory is too small for requested image.");
  if (flavor.root_gb > 0 && image.min_disk > flavor.root_gb) throw badRequest("Flavor's disk is too small for requested image.");

  if (r.name !== undefined) values.display_name = r.name.trim();
  if (mv.ge('2.19') && 'description' in r) values.display_description = r.description ?? null;
  if (r.accessIPv4 !== undefined) values.access_ip_v4 = r.accessIPv4;
  if (r.accessIPv6 !== undefined) values.access_ip_v6 = r.accessIPv6;
  if (r['OS-DCF:diskConfig'] !== undefined) values.disk_config = r['OS-DCF:diskConfig'];
  if (mv.ge('2.57') && 'user_data' in r) values.user_data = r.user_data ?? null;
  if (mv.ge('2.90') && r.hostname !== undefined) values.hostname = r.hostname;

  let updated = await begin(deps, req, inst, { stateAction: 'rebuild', action: 'rebuild', values });
  if (r.metadata !== undefined) {
    const meta = r.metadata;
    await deps.db.transaction().execute(async (tx) => {
      await tx.deleteFrom('instance_metadata').where('instance_uuid', '=', inst.uuid).execute();
      const rows = Object.entries(meta).map(([key, value]) => ({ instance_uuid: inst.uuid, key, value }));
      if (rows.length > 0) await tx.insertInto('instance_metadata').values(rows).execute();
      await touchInstance(tx, inst.uuid);
    });
    updated = { ...updated, rev: updated.rev + 1 };
  }

  // The answer shows the server as the API left it (REBUILD), before the host starts.
  const server = JSON.parse(await renderOne({ deps, req }, updated)) as Record<string, unknown>;
  const body = mv.ge('2.75') ? server : reducedView(server, req);
  // user_data is its own field from 2.57, not the extended attribute.
  delete body['OS-EXT-SRV-ATTR:user_data'];
  body.adminPass = password;
  if (mv.ge('2.57')) body.user_data = updated.user_data;

  castToHost(deps, req, updated, 'rebuild_instance', { adminPass: password, origVmState: inst.vm_state });
  return { status: 202, headers: { location: links(req.urls, 'servers', inst.uuid)[0]?.href ?? '' }, body: { server: body } };
}

export const rebuildActions: ActionDef[] = [{ key: 'rebuild', body: rebuildBody, handler: rebuild }];
