import { Type } from '@sinclair/typebox';
import type { ComputeRequest, Reply, RouteDef } from '../../api/route.js';
import { schemaFor } from '../../api/validation.js';
import { credentials } from '../../context.js';
import { badRequest, notFound } from '../../errors.js';
import { ADMIN, policyRule } from '../../policy/base.js';
import type { PolicyDefault } from '../../policy/types.js';
import { FAKE_OPERATIONS, type FakeDriver, type FakeOperation } from '../../virt/fake/driver.js';
import type { ComputeDeps } from '../deps.js';
import { obj } from '../servers/schema.js';

/**
 * Fault injection for the simulated hypervisors (a Stratus extension, not a
 * Nova API; admin only): make the next N calls of a driver operation fail,
 * on one host or all, for one server or any, so that clients and tests can
 * see how Nova reports failures (ERROR, faults, failed instance-action
 * events, reverted task_state). See docs/fault-injection.md.
 */
const POLICY = 'stratus:fault-injection';
const PATH = '/stratus/fault-injections';

export const faultInjectionPolicies: PolicyDefault[] = [
  policyRule(POLICY, ADMIN, 'Inject, list and clear failures of the simulated virt driver', 'POST', PATH),
];

const body = schemaFor({
  schema: obj(
    {
      failure: obj(
        {
          operation: Type.Union(FAKE_OPERATIONS.map((o) => Type.Literal(o))),
          host: Type.String({ minLength: 1, maxLength: 255 }),
          server_id: Type.String({ format: 'uuid' }),
          count: Type.Integer({ minimum: 1, maximum: 1000 }),
          message: Type.String({ minLength: 1, maxLength: 255 }),
        },
        ['operation'],
      ),
    },
    ['failure'],
  ),
});

/** Switches a simulated host off (it fails: guests lost, no heartbeat, calls time out) and on again. */
export interface HostSwitch {
  hostDown(host: string): void;
  hostUp(host: string): Promise<void>;
}

const hostBody = schemaFor({ schema: obj({ host: obj({ state: Type.Union([Type.Literal('down'), Type.Literal('up')]) }, ['state']) }, ['host']) });

export function faultInjectionRoutes(deps: ComputeDeps, drivers: ReadonlyMap<string, FakeDriver>, hosts?: HostSwitch): RouteDef[] {
  const authorize = (req: ComputeRequest) => deps.policy.authorize(POLICY, { project_id: req.ctx.projectId }, credentials(req.ctx));
  const targets = (host: string | undefined): [string, FakeDriver][] => {
    if (host === undefined) return [...drivers.entries()];
    const d = drivers.get(host);
    if (!d) throw badRequest(`Compute host ${host} could not be found.`);
    return [[host, d]];
  };
  const list = (): Reply => ({
    status: 200,
    body: {
      failures: [...drivers.entries()].flatMap(([host, d]) =>
        d.pendingFailures().map((f) => ({ host, operation: f.op, server_id: f.uuid, remaining: f.remaining, message: f.message })),
      ),
    },
  });
  return [
    {
      method: 'GET',
      path: PATH,
      handler: (req) => {
        authorize(req);
        return list();
      },
    },
    {
      method: 'POST',
      path: PATH,
      body,
      handler: (req) => {
        authorize(req);
        const f = (req.body as { failure: { operation: FakeOperation; host?: string; server_id?: string; count?: number; message?: string } }).failure;
        for (const [, d] of targets(f.host)) {
          d.failNext(f.operation, {
            ...(f.server_id !== undefined ? { uuid: f.server_id } : {}),
            count: f.count ?? 1,
            ...(f.message !== undefined ? { message: f.message } : {}),
          });
        }
        return { ...list(), status: 201 };
      },
    },
    {
      method: 'PUT',
      path: `${PATH}/hosts/:host`,
      body: hostBody,
      handler: async (req) => {
        authorize(req);
        const host = req.params.host ?? '';
        const d = drivers.get(host);
        if (!d || !hosts) throw notFound(`Compute host ${host} could not be found.`);
        const state = (req.body as { host: { state: 'down' | 'up' } }).host.state;
        if (state === 'down') hosts.hostDown(host);
        else await hosts.hostUp(host);
        return { status: 200, body: { host: { name: host, state } } };
      },
    },
    {
      method: 'DELETE',
      path: PATH,
      handler: (req) => {
        authorize(req);
        for (const d of drivers.values()) d.clearFailures();
        return { status: 204 };
      },
    },
  ];
}
