import type { Selectable } from 'kysely';
import type { ComputeRequest, Reply, RouteDef } from '../../api/route.js';
import type { Db } from '../../db/index.js';
import { badRequest, conflict, errors } from '../../errors.js';
import { isoMicro } from '../../lib/time.js';
import type { ComputeDeps } from '../deps.js';
import { authorize, checkName, firstParam, limitAndMarker, nextLinks, objectBody, patternError } from './common.js';
import { createKeypairBody, KEYPAIR_NAME_PATTERN, KEYPAIR_NAME_PATTERN_V292, keypairIndexQuery, keypairItemQuery } from './keypairs.schema.js';
import { checkKeypairQuota } from './quota.js';
import { generateSshKey, sshFingerprint, x509Fingerprint } from './ssh-keys.js';
import type { KeypairRow } from './tables.js';
import { generateX509 } from './x509.js';

export type Keypair = Selectable<KeypairRow>;

export const KEYPAIR_POLICY = {
  index: 'os_compute_api:os-keypairs:index',
  create: 'os_compute_api:os-keypairs:create',
  show: 'os_compute_api:os-keypairs:show',
  delete: 'os_compute_api:os-keypairs:delete',
} as const;

/** A user's key pair by name (for server create's `key_name`), or null. */
export async function findKeypair(db: Db, userId: string, name: string): Promise<Keypair | null> {
  const row = await db.selectFrom('keypairs').selectAll().where('user_id', '=', userId).where('name', '=', name).executeTakeFirst();
  return row ?? null;
}

/** Whose key pairs the request is about: from 2.10 an optional `user_id` (query or body), else the caller. */
function targetUser(req: ComputeRequest, given: string | undefined): string {
  return req.mv.ge('2.10') && given !== undefined && given !== '' ? given : req.ctx.userId;
}

function fingerprintOf(publicKey: string, type: string): string {
  try {
    return type === 'x509' ? x509Fingerprint(publicKey) : sshFingerprint(publicKey);
  } catch (err) {
    if (type === 'x509') {
      throw badRequest(
        `Keypair data is invalid: failed to generate X509 fingerprint. Error message: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
    throw badRequest('Keypair data is invalid: failed to generate fingerprint');
  }
}

function showView(req: ComputeRequest, k: Keypair): Record<string, unknown> {
  const out: Record<string, unknown> = {
    name: k.name,
    public_key: k.public_key,
    fingerprint: k.fingerprint,
    user_id: k.user_id,
    created_at: k.created_at,
    deleted: false,
    deleted_at: null,
    id: k.id,
    updated_at: null,
  };
  if (req.mv.ge('2.2')) out.type = k.type;
  return out;
}

async function createKeypair(deps: ComputeDeps, req: ComputeRequest): Promise<Reply> {
  const params = (objectBody(req.body).keypair ?? {}) as Record<string, unknown>;
  const rawName = String(params.name);
  checkName(rawName);
  const pattern = req.mv.ge('2.92') ? KEYPAIR_NAME_PATTERN_V292 : KEYPAIR_NAME_PATTERN;
  if (!new RegExp(pattern).test(rawName)) throw patternError('name', rawName, pattern);
  const name = rawName.trim();
  const type = req.mv.ge('2.2') && typeof params.type === 'string' ? params.type : 'ssh';
  const userId = targetUser(req, typeof params.user_id === 'string' ? params.user_id : undefined);
  authorize(deps, req, KEYPAIR_POLICY.create, { user_id: userId });

  await checkKeypairQuota(deps.db, deps.config, req.ctx.projectId, req.ctx.userId, userId);
  let publicKey: string;
  let fingerprint: string;
  let privateKey: string | undefined;
  if (typeof params.public_key === 'string') {
    publicKey = params.public_key;
    fingerprint = fingerprintOf(publicKey, type);
  } else if (type === 'x509') {
    const g = generateX509(userId, deps.clock.now());
    publicKey = g.certificate;
    privateKey = g.privateKey;
    fingerprint = x509Fingerprint(g.certificate);
  } else {
    const g = generateSshKey();
    publicKey = g.publicKey;
    privateKey = g.privateKey;
    fingerprint = g.fingerprint;
  }
  try {
    await deps.db
      .insertInto('keypairs')
      .values({ name, user_id: userId, fingerprint, public_key: publicKey, type, created_at: isoMicro(deps.clock.now()) })
      .execute();
  } catch (err) {
    if (err instanceof Error && /UNIQUE constraint failed|duplicate key/i.test(err.message)) {
      throw conflict(`Key pair '${name}' already exists.`);
    }
    throw err;
  }
  const body: Record<string, unknown> = {};
  if (privateKey !== undefined) body.private_key = privateKey;
  if (req.mv.ge('2.2')) body.type = type;
  Object.assign(body, { name, public_key: publicKey, fingerprint, user_id: userId });
  return { status: req.mv.ge('2.2') ? 201 : 200, body: { keypair: body } };
}

async function listKeypairs(deps: ComputeDeps, req: ComputeRequest): Promise<Reply> {
  const userId = targetUser(req, firstParam(req.query, 'user_id'));
  authorize(deps, req, KEYPAIR_POLICY.index, { user_id: userId });
  const paged = req.mv.ge('2.35');
  let q = deps.db.selectFrom('keypairs').selectAll().where('user_id', '=', userId).orderBy('name');
  if (paged) {
    const { limit, marker } = limitAndMarker(req.query, deps.config.compute.max_limit);
    if (marker !== undefined) {
      if (!(await findKeypair(deps.db, userId, marker))) throw badRequest(`Marker ${marker} could not be found.`);
      q = q.where('name', '>', marker);
    }
    q = q.limit(limit);
  }
  const rows = await q.execute();
  const withType = req.mv.ge('2.2');
  const body: Record<string, unknown> = {
    keypairs: rows.map((k) => ({
      keypair: withType
        ? { name: k.name, public_key: k.public_key, fingerprint: k.fingerprint, type: k.type }
        : { name: k.name, public_key: k.public_key, fingerprint: k.fingerprint },
    })),
  };
  if (paged) {
    const links = nextLinks(req, deps.config.compute.max_limit, rows.length, rows[rows.length - 1]?.name, 'os-keypairs');
    if (links.length) body.keypairs_links = links;
  }
  return { status: 200, body };
}

/** os-keypairs: list, create/import, show, delete. */
export function keypairRoutes(deps: ComputeDeps): RouteDef[] {
  return [
    { method: 'GET', path: '/os-keypairs', query: keypairIndexQuery, handler: (req) => listKeypairs(deps, req) },
    { method: 'POST', path: '/os-keypairs', body: createKeypairBody, handler: (req) => createKeypair(deps, req) },
    {
      method: 'GET',
      path: '/os-keypairs/:name',
      query: keypairItemQuery,
      handler: async (req) => {
        const userId = targetUser(req, firstParam(req.query, 'user_id'));
        authorize(deps, req, KEYPAIR_POLICY.show, { user_id: userId });
        const name = req.params.name ?? '';
        const k = await findKeypair(deps.db, userId, name);
        if (!k) throw errors.keypairNotFound(name, userId);
        return { status: 200, body: { keypair: showView(req, k) } };
      },
    },
    {
      method: 'DELETE',
      path: '/os-keypairs/:name',
      query: keypairItemQuery,
      handler: async (req) => {
        const userId = targetUser(req, firstParam(req.query, 'user_id'));
        authorize(deps, req, KEYPAIR_POLICY.delete, { user_id: userId });
        const name = req.params.name ?? '';
        const res = await deps.db.deleteFrom('keypairs').where('user_id', '=', userId).where('name', '=', name).executeTakeFirst();
        if (Number(res.numDeletedRows) === 0) throw errors.keypairNotFound(name, userId);
        return { status: req.mv.ge('2.2') ? 204 : 202 };
      },
    },
  ];
}
