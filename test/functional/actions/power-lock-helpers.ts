import assert from 'node:assert/strict';
import { casUpdate, type InstanceUpdate } from '../../../src/compute/servers/repo.js';
import type { TestCloud, TestResponse } from '../../helpers/cloud.js';

export type Who = 'demo' | 'admin' | 'alt_demo';

/** Shorthands for the action tests of the power, lock, password and admin groups. */
export function helpers(cloud: TestCloud) {
  const act = (id: string, body: unknown, as: Who = 'demo', version?: string) =>
    cloud.request({ method: 'POST', url: `/compute/v2.1/servers/${id}/action`, as, body, ...(version ? { version } : {}) });
  const show = async (id: string, version?: string) =>
    (await cloud.request({ url: `/compute/v2.1/servers/${id}`, as: 'admin', ...(version ? { version } : {}) })).body.server;
  const row = (id: string) => cloud.db.selectFrom('instances').selectAll().where('uuid', '=', id).executeTakeFirstOrThrow();
  /** The instance action the response's request id opened, with its events. */
  const actionOf = async (res: TestResponse) => {
    const requestId = String(res.headers['x-openstack-request-id']);
    const action = await cloud.db.selectFrom('instance_actions').selectAll().where('request_id', '=', requestId).executeTakeFirst();
    const events = action
      ? await cloud.db.selectFrom('instance_actions_events').selectAll().where('action_id', '=', action.id).orderBy('id').execute()
      : [];
    return { action, events };
  };
  const hostOf = async (id: string) => {
    const h = (await row(id)).host;
    assert.ok(h, 'server has a host');
    const d = cloud.compute.drivers.get(h);
    assert.ok(d, 'host has a driver');
    return d;
  };
  const faults = (id: string) => cloud.db.selectFrom('instance_faults').selectAll().where('instance_uuid', '=', id).orderBy('id').execute();
  /** Puts a server straight into a state (for precondition checks that only read the row). */
  const force = (id: string, values: InstanceUpdate) => casUpdate(cloud.db, id, 'any', values);
  const conflictMsg = (res: TestResponse) => {
    assert.equal(res.status, 409, res.text);
    return res.body.conflictingRequest.message as string;
  };
  return { act, show, row, actionOf, hostOf, faults, force, conflictMsg };
}

/** Every vm_state Nova knows (soft-delete as stored). */
export const ALL_VM_STATES = [
  'active', 'building', 'paused', 'suspended', 'stopped', 'rescued', 'resized', 'soft-delete', 'error', 'shelved', 'shelved_offloaded',
] as const;

/** Lets casts run without advancing the fake clock (so visible steps stay in progress). */
export async function ticks(n = 20): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
}

/** A user holding only the reader role in demo's project; returns its token (for 403 checks). */
export async function readerToken(cloud: TestCloud, name = 'auditor'): Promise<string> {
  const demo = cloud.identity.accounts.find((a) => a.username === 'demo');
  assert.ok(demo);
  const password = `pw-${name}`;
  const user = await cloud.request({ method: 'POST', url: '/identity/v3/users', as: 'admin', body: { user: { name, password, domain_id: 'default' } } });
  assert.equal(user.status, 201, user.text);
  const roles = await cloud.request({ url: '/identity/v3/roles?name=reader', as: 'admin' });
  const roleId = String(roles.body.roles[0].id);
  const grant = await cloud.request({ method: 'PUT', url: `/identity/v3/projects/${demo.projectId}/users/${user.body.user.id}/roles/${roleId}`, as: 'admin' });
  assert.equal(grant.status, 204);
  const tok = await cloud.request({
    method: 'POST',
    url: '/identity/v3/auth/tokens',
    as: null,
    body: {
      auth: {
        identity: { methods: ['password'], password: { user: { name, domain: { id: 'default' }, password } } },
        scope: { project: { id: demo.projectId } },
      },
    },
  });
  assert.equal(tok.status, 201, tok.text);
  return String(tok.headers['x-subject-token']);
}

/** Asserts Nova's policy refusal. */
export function assertPolicy(res: TestResponse, rule: string): void {
  assert.equal(res.status, 403, res.text);
  assert.deepEqual(res.body, { forbidden: { code: 403, message: `Policy doesn't allow ${rule} to be performed.` } });
}
