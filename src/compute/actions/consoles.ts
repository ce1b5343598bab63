import { schemaFor } from '../../api/validation.js';
import type { ComputeRequest } from '../../api/route.js';
import { badRequest, errors } from '../../errors.js';
import { ADMIN, PROJECT_MEMBER_OR_ADMIN } from '../../policy/base.js';
import type { PolicyDefault } from '../../policy/types.js';
import { computeTopic } from '../conductor.js';
import { consoleApiError, GENERIC_BAD_REQUEST, requestConsole, type ConsoleProtocol } from '../consoles/common.js';
import type { ComputeDeps } from '../deps.js';
import { checkRange, defaultTarget, raw } from '../resources/common.js';
import { authorize } from '../servers/common.js';
import type { Instance } from '../servers/repo.js';
import type { ActionDef } from './types.js';

/**
 * Consoles: os-getConsoleOutput (the guest's console log, tailed), and the
 * legacy os-get<VNC|SPICE|Serial|RDP>Console actions (up to 2.5; from 2.6
 * POST /servers/{id}/remote-consoles, src/compute/consoles/). None is
 * lock-checked and none records an instance action.
 */
export const CONSOLE_POLICY = {
  output: 'os_compute_api:os-console-output',
  remote: 'os_compute_api:os-remote-consoles',
  authTokens: 'os_compute_api:os-console-auth-tokens',
} as const;

export const consolesPolicies: PolicyDefault[] = [
  {
    name: CONSOLE_POLICY.output,
    check: PROJECT_MEMBER_OR_ADMIN,
    description: 'Show console output for a server',
    operations: [{ method: 'POST', path: '/servers/{server_id}/action (os-getConsoleOutput)' }],
  },
  {
    name: CONSOLE_POLICY.remote,
    check: PROJECT_MEMBER_OR_ADMIN,
    description: 'Generate a URL to access remove server console.',
    operations: [
      { method: 'POST', path: '/servers/{server_id}/action (os-getRDPConsole)' },
      { method: 'POST', path: '/servers/{server_id}/action (os-getSerialConsole)' },
      { method: 'POST', path: '/servers/{server_id}/action (os-getSPICEConsole)' },
      { method: 'POST', path: '/servers/{server_id}/action (os-getVNCConsole)' },
      { method: 'POST', path: '/servers/{server_id}/remote-consoles' },
    ],
  },
  {
    name: CONSOLE_POLICY.authTokens,
    check: ADMIN,
    description: 'Show console connection information for a given console authentication token',
    operations: [{ method: 'GET', path: '/os-console-auth-tokens/{console_token}' }],
  },
];

const outputBody = schemaFor({
  schema: raw({
    type: 'object',
    properties: {
      'os-getConsoleOutput': {
        type: 'object',
        properties: { length: { type: ['integer', 'string', 'null'], pattern: '^-?[0-9]+$', minimum: -1 } },
        additionalProperties: false,
      },
    },
    required: ['os-getConsoleOutput'],
    additionalProperties: false,
  }),
});

/** Control characters Nova strips from the output (all but \t and \n). */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x08\x0B-\x1F]/g;

async function consoleOutput(deps: ComputeDeps, req: ComputeRequest, inst: Instance): Promise<string> {
  const length = (req.body as { 'os-getConsoleOutput': { length?: number | string | null } })['os-getConsoleOutput'].length;
  checkRange('length', length, -1, null);
  authorize(deps, req, CONSOLE_POLICY.output, { project_id: inst.project_id });
  if (!inst.host) throw errors.instanceNotReady(inst.uuid);
  let output: unknown;
  try {
    output = await deps.bus.call(computeTopic(inst.host), 'get_console_output', { uuid: inst.uuid, length: length ?? null });
  } catch (err) {
    throw consoleApiError(err);
  }
  return (typeof output === 'string' ? output : '').replace(CONTROL, '');
}

function legacySchema(key: string, types: string[]) {
  return schemaFor({
    schema: raw({
      type: 'object',
      properties: {
        [key]: {
          type: 'object',
          properties: { type: { type: 'string', enum: types } },
          required: ['type'],
          additionalProperties: false,
        },
      },
      required: [key],
      additionalProperties: false,
    }),
  });
}

/** A legacy get-console action: policy on the caller's own project (Nova passes no target), then the console. */
function legacyConsole(key: string, protocol: ConsoleProtocol, types: string[]): ActionDef {
  return {
    key,
    max: '2.5',
    body: legacySchema(key, types),
    handler: async (deps, req, inst) => {
      authorize(deps, req, CONSOLE_POLICY.remote, defaultTarget(req));
      const type = (req.body as Record<string, { type: string }>)[key]?.type ?? '';
      const url = await requestConsole(deps, req, inst, protocol, type);
      return { status: 200, body: { console: { type, url } } };
    },
  };
}

export const consolesActions: ActionDef[] = [
  {
    key: 'os-getConsoleOutput',
    body: outputBody,
    handler: async (deps, req, inst) => ({ status: 200, body: { output: await consoleOutput(deps, req, inst) } }),
  },
  legacyConsole('os-getVNCConsole', 'vnc', ['novnc', 'xvpvnc']),
  legacyConsole('os-getSPICEConsole', 'spice', ['spice-html5']),
  legacyConsole('os-getSerialConsole', 'serial', ['serial']),
  {
    // Removed with the Hyper-V driver (29.0.0): any body is a bare 400.
    key: 'os-getRDPConsole',
    max: '2.5',
    body: schemaFor({ schema: raw({}) }),
    handler: () => Promise.reject(badRequest(GENERIC_BAD_REQUEST)),
  },
];
