import { createHash, randomUUID } from 'node:crypto';
import type { ComputeRequest } from '../../api/route.js';
import { ApiError, badRequest, errors, notFound } from '../../errors.js';
import { computeTopic } from '../conductor.js';
import type { ComputeDeps } from '../deps.js';
import type { Instance } from '../servers/repo.js';

/** [consoleauth] token_ttl: how long a console URL stays valid (seconds). */
export const CONSOLE_TOKEN_TTL_S = 600;

/** webob's default explanation for a bare HTTPBadRequest(). */
export const GENERIC_BAD_REQUEST = 'The server could not comply with the request since it is either malformed or otherwise incorrect.';

export type ConsoleProtocol = 'vnc' | 'spice' | 'serial' | 'mks';

/** Only the token's SHA-256 is stored, as Nova does. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/**
 * A console failure as the compute host reports it; the API turns it into
 * Nova's fault (ConsoleTypeInvalid 400, InstanceNotReady 409,
 * InstanceNotFound 404, ConsoleNotAvailable 404).
 */
export class ConsoleError extends Error {
  constructor(
    readonly kind: 'type-invalid' | 'type-unavailable' | 'not-ready' | 'instance-not-found' | 'console-unavailable',
    message: string,
  ) {
    super(message);
    this.name = 'ConsoleError';
  }
}

export function consoleApiError(err: unknown): unknown {
  if (!(err instanceof ConsoleError)) return err;
  switch (err.kind) {
    case 'type-invalid':
    case 'type-unavailable':
      return badRequest(err.message);
    case 'not-ready':
      return new ApiError(409, err.message);
    default:
      return notFound(err.message);
  }
}

/** Where the console pages of this cloud live: <public root>/compute/console. */
export function consoleRoot(req: ComputeRequest): string {
  return `${req.urls.bookmark.replace(/\/compute(\/[^/]*)?$/, '')}/compute/console`;
}

/** The access URL base of each console type (Nova's novncproxy_base_url & co., served by Stratus). */
export function accessUrlBase(root: string, consoleType: string): string {
  switch (consoleType) {
    case 'novnc':
      return `${root}/novnc/vnc_auto.html`;
    case 'spice-html5':
      return `${root}/spice/spice_auto.html`;
    case 'spice-direct':
      return `${root}/spice-direct`;
    case 'serial':
      return `${root.replace(/^http/, 'ws')}/serial/`;
    case 'webmks':
      return `${root}/mks/`;
    default:
      return `${root}/${consoleType}`;
  }
}

/** ConsoleAuthToken.access_url: noVNC takes the token inside its `path` parameter. */
export function accessUrl(base: string, consoleType: string, token: string): string {
  if (consoleType === 'novnc') return `${base}?${new URLSearchParams({ path: `?token=${token}` }).toString()}`;
  return `${base}?token=${token}`;
}

/**
 * Nova's get_<protocol>_console: the server needs a host (409 not ready),
 * must not be deleting or migrating (409), then its host checks the console
 * type, asks its driver where the console is, and stores the token. The
 * token is minted here and only its hash crosses the bus.
 */
export async function requestConsole(
  deps: ComputeDeps,
  req: ComputeRequest,
  inst: Instance,
  protocol: ConsoleProtocol,
  consoleType: string,
): Promise<string> {
  const method = `get_${protocol}_console`;
  if (!inst.host) throw errors.instanceNotReady(inst.uuid);
  if (inst.task_state === 'deleting' || inst.task_state === 'migrating') {
    throw errors.instanceInvalidState(inst.uuid, method, 'task_state', inst.task_state);
  }
  const token = randomUUID();
  const base = accessUrlBase(consoleRoot(req), consoleType);
  try {
    await deps.bus.call(computeTopic(inst.host), 'get_console', {
      uuid: inst.uuid,
      protocol,
      consoleType,
      tokenHash: hashToken(token),
      accessUrlBase: base,
      ttl: CONSOLE_TOKEN_TTL_S,
    });
  } catch (err) {
    throw consoleApiError(err);
  }
  return accessUrl(base, consoleType, token);
}

/** A token that is known, not expired, and of a server that still exists; else undefined. */
export async function validToken(deps: Pick<ComputeDeps, 'db' | 'clock'>, token: string) {
  const row = await deps.db
    .selectFrom('console_auth_tokens')
    .innerJoin('instances', 'instances.uuid', 'console_auth_tokens.instance_uuid')
    .selectAll('console_auth_tokens')
    .where('console_auth_tokens.token_hash', '=', hashToken(token))
    .where('instances.deleted', '=', 0)
    .executeTakeFirst();
  if (!row || row.expires <= Math.floor(deps.clock.now() / 1000)) return undefined;
  return row;
}
