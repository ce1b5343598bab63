import assert from 'node:assert/strict';
import { casUpdate, type InstanceUpdate } from '../../src/compute/servers/repo.js';
import type { TestCloud, TestResponse } from './cloud.js';

export type Who = 'demo' | 'admin' | 'alt_demo';

/** Shorthands for the server action tests. */
export function actionKit(cloud: TestCloud) {
  const act = (id: string, body: unknown, as: Who = 'demo', version?: string) =>
    cloud.request({ method: 'POST', url: `/compute/v2.1/servers/${id}/action`, as, body, ...(version ? { version } : {}) });
  /** The server as an admin sees it (extended attributes), at `version`. */
  const show = async (id: string, version?: string): Promise<TestResponse['body']> =>
    (await cloud.request({ url: `/compute/v2.1/servers/${id}`, as: 'admin', ...(version ? { version } : {}) })).body?.server;
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
  const driverOf = async (id: string) => {
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
  const badRequestMsg = (res: TestResponse) => {
    assert.equal(res.status, 400, res.text);
    return res.body.badRequest.message as string;
  };
  /** An image as the image API shows it to an admin; undefined when it is gone. */
  const image = async (id: string) => {
    const res = await cloud.request({ url: `/image/v2/images/${id}`, as: 'admin' });
    return res.status === 200 ? (res.body as Record<string, unknown> & { status: string }) : undefined;
  };
  /** Registers and uploads a public image (admin); returns its id. */
  const makeImage = async (name: string, extra: Record<string, unknown> = {}, upload = true) => {
    const res = await cloud.request({
      method: 'POST',
      url: '/image/v2/images',
      as: 'admin',
      body: { name, disk_format: 'qcow2', container_format: 'bare', visibility: 'public', ...extra },
    });
    assert.equal(res.status, 201, res.text);
    const id = String(res.body.id);
    if (upload) {
      const up = await cloud.app.inject({
        method: 'PUT',
        url: `/image/v2/images/${id}/file`,
        headers: { 'x-auth-token': cloud.tokens.admin, 'content-type': 'application/octet-stream' },
        payload: Buffer.from(`image ${name}\n`),
      });
      assert.equal(up.statusCode, 204, up.body);
    }
    return id;
  };
  /**
   * Lets the cloud run step by step (one clock wake-up at a time) until
   * `done` holds, recording every distinct task_state the server shows.
   */
  const trace = async (id: string, done: (r: Awaited<ReturnType<typeof row>>) => boolean, limit = 500) => {
    const seen: (string | null)[] = [];
    for (let i = 0; i < limit; i++) {
      const r = await row(id);
      if (seen.length === 0 || seen[seen.length - 1] !== r.task_state) seen.push(r.task_state);
      if (done(r)) return seen;
      const due = cloud.clock.nextDue();
      if (due !== undefined) await cloud.clock.advance(Math.max(0, due - cloud.clock.now()));
      else await new Promise((resolve) => setImmediate(resolve));
    }
    throw new Error(`server ${id} never reached the expected state; saw ${JSON.stringify(seen)}`);
  };
  return { act, show, row, actionOf, driverOf, faults, force, conflictMsg, badRequestMsg, image, makeImage, trace };
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
