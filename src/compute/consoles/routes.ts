import type { ComputeRequest, Reply, RouteDef } from '../../api/route.js';
import { schemaFor } from '../../api/validation.js';
import { badRequest, notFound } from '../../errors.js';
import { CONSOLE_POLICY } from '../actions/consoles.js';
import type { ComputeDeps } from '../deps.js';
import { authorize, defaultTarget, querySchema, raw } from '../resources/common.js';
import { loadServer } from '../servers/common.js';
import { GENERIC_BAD_REQUEST, requestConsole, validToken, type ConsoleProtocol } from './common.js';

/**
 * POST /servers/{id}/remote-consoles (2.6+; mks 2.8; spice-direct 2.99) and
 * GET /os-console-auth-tokens/{token} (admin; 2.31+).
 */

function createSchema(protocols: string[], types: string[]) {
  return raw({
    type: 'object',
    properties: {
      remote_console: {
        type: 'object',
        properties: {
          protocol: { type: 'string', enum: protocols },
          type: { type: 'string', enum: types },
        },
        required: ['protocol', 'type'],
        additionalProperties: false,
      },
    },
    required: ['remote_console'],
    additionalProperties: false,
  });
}

const P26 = ['vnc', 'spice', 'serial', 'rdp'];
const T26 = ['novnc', 'xvpvnc', 'spice-html5', 'serial', 'rdp-html5'];
const createBody = schemaFor(
  { min: '2.6', max: '2.7', schema: createSchema(P26, T26) },
  { min: '2.8', max: '2.98', schema: createSchema([...P26, 'mks'], [...T26, 'webmks']) },
  { min: '2.99', schema: createSchema([...P26, 'mks'], [...T26, 'webmks', 'spice-direct']) },
);

async function createRemoteConsole(deps: ComputeDeps, req: ComputeRequest): Promise<Reply> {
  const inst = await loadServer(deps, req, req.params.server_id ?? '');
  authorize(deps, req, CONSOLE_POLICY.remote, { project_id: inst.project_id });
  const { protocol, type } = (req.body as { remote_console: { protocol: string; type: string } }).remote_console;
  // RDP went with the Hyper-V driver; Nova answers a bare 400.
  if (protocol === 'rdp') throw badRequest(GENERIC_BAD_REQUEST);
  const url = await requestConsole(deps, req, inst, protocol as ConsoleProtocol, type);
  return { status: 200, body: { remote_console: { protocol, type, url } } };
}

const tokenQuery = schemaFor({ max: '2.98', schema: querySchema({}, false) }, { min: '2.99', schema: querySchema({}, true) });

async function showConsoleToken(deps: ComputeDeps, req: ComputeRequest): Promise<Reply> {
  // Until 2.31 the API served only rdp-html5 consoles, which are gone.
  if (!req.mv.ge('2.31')) throw badRequest(GENERIC_BAD_REQUEST);
  authorize(deps, req, CONSOLE_POLICY.authTokens, defaultTarget(req));
  const token = req.params.console_token ?? '';
  if (!token) throw badRequest('token not provided');
  const row = await validToken(deps, token);
  if (!row) throw notFound('Token not found');
  const console: Record<string, unknown> = {
    instance_uuid: row.instance_uuid,
    host: row.host,
    port: row.port,
    internal_access_path: row.internal_access_path,
  };
  if (row.console_type === 'spice-direct' && req.mv.ge('2.99')) console.tls_port = row.tls_port;
  return { status: 200, body: { console } };
}

export function consoleRoutes(deps: ComputeDeps): RouteDef[] {
  return [
    { method: 'POST', path: '/servers/:server_id/remote-consoles', min: '2.6', body: createBody, handler: (r) => createRemoteConsole(deps, r) },
    { method: 'GET', path: '/os-console-auth-tokens/:console_token', query: tokenQuery, handler: (r) => showConsoleToken(deps, r) },
  ];
}
