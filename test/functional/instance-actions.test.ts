import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestCloud, type TestCloud } from '../helpers/cloud.js';
import { boot } from '../helpers/servers.js';

type Who = 'demo' | 'admin' | 'alt_demo';
const TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/;

describe('os-instance-actions', () => {
  let cloud: TestCloud;
  before(async () => {
    cloud = await startTestCloud({ quotas: { instances: -1, cores: -1, ram: -1 } });
  });
  after(async () => {
    await cloud.close();
  });
  const list = (id: string, version = '2.1', as: Who = 'demo', query = '') =>
    cloud.request({ url: `/compute/v2.1/servers/${id}/os-instance-actions${query}`, version, as });
  const showAction = (id: string, requestId: string, version = '2.1', as: Who = 'demo') =>
    cloud.request({ url: `/compute/v2.1/servers/${id}/os-instance-actions/${requestId}`, version, as });
  const act = async (id: string, body: unknown, as: Who = 'demo') => {
    const res = await cloud.request({ method: 'POST', url: `/compute/v2.1/servers/${id}/action`, as, body });
    assert.equal(res.status, 202, res.text);
    return String(res.headers['x-openstack-request-id']);
  };
  /** A server that was created, paused and unpaused: three actions. */
  const busyServer = async (): Promise<{ id: string; pause: string; unpause: string }> => {
    const id = await boot(cloud);
    await cloud.clock.advance(1000);
    const pause = await act(id, { pause: null });
    await cloud.settle();
    await cloud.clock.advance(1000);
    const unpause = await act(id, { unpause: null });
    await cloud.settle();
    return { id, pause, unpause };
  };

  it('lists actions newest first with the fields of each microversion', async () => {
    const { id, pause, unpause } = await busyServer();
    const res = await list(id);
    assert.equal(res.status, 200);
    const actions = res.body.instanceActions as Record<string, unknown>[];
    assert.deepEqual(actions.map((a) => a.action), ['unpause', 'pause', 'create']);
    assert.deepEqual(actions.map((a) => a.request_id).slice(0, 2), [unpause, pause]);
    assert.deepEqual(Object.keys(actions[0] ?? {}).sort(), ['action', 'instance_uuid', 'message', 'project_id', 'request_id', 'start_time', 'user_id']);
    assert.match(String(actions[0]?.start_time), TIME);
    assert.equal(actions[0]?.instance_uuid, id);
    assert.equal(actions[0]?.message, null);
    assert.equal(res.body.links, undefined);
    const v258 = await list(id, '2.58');
    assert.match(String(v258.body.instanceActions[0].updated_at), TIME);
    assert.equal(v258.body.links, undefined, 'no next link when the page is not full');
  });

  it('shows an action; events only for admins before 2.51, for all from 2.51 (traceback admin-only)', async () => {
    const { id, pause } = await busyServer();
    const member = await showAction(id, pause);
    assert.equal(member.status, 200);
    assert.equal(member.body.instanceAction.action, 'pause');
    assert.equal(member.body.instanceAction.events, undefined);
    const admin = await showAction(id, pause, '2.1', 'admin');
    const ev = admin.body.instanceAction.events[0];
    assert.deepEqual(Object.keys(ev), ['event', 'start_time', 'finish_time', 'result', 'traceback']);
    assert.equal(ev.event, 'compute_pause_instance');
    assert.equal(ev.result, 'Success');
    assert.match(ev.start_time, TIME);
    assert.match(ev.finish_time, TIME);
    const m251 = await showAction(id, pause, '2.51');
    assert.deepEqual(Object.keys(m251.body.instanceAction.events[0]), ['event', 'start_time', 'finish_time', 'result']);
    assert.equal(m251.body.instanceAction.updated_at, undefined);
    assert.match((await showAction(id, pause, '2.58')).body.instanceAction.updated_at, TIME);
  });

  it('2.62 adds hostId for all and host for admins; 2.84 adds details for admins', async () => {
    const { id, pause } = await busyServer();
    const host = (await cloud.request({ url: `/compute/v2.1/servers/${id}`, as: 'admin' })).body.server['OS-EXT-SRV-ATTR:host'];
    const serverHostId = (await cloud.request({ url: `/compute/v2.1/servers/${id}` })).body.server.hostId;
    const member = (await showAction(id, pause, '2.62')).body.instanceAction.events[0];
    assert.deepEqual(Object.keys(member), ['event', 'start_time', 'finish_time', 'result', 'hostId']);
    assert.equal(member.hostId, serverHostId);
    const admin = (await showAction(id, pause, '2.62', 'admin')).body.instanceAction.events[0];
    assert.deepEqual(Object.keys(admin), ['event', 'start_time', 'finish_time', 'result', 'traceback', 'host', 'hostId']);
    assert.equal(admin.host, host);
    const a284 = (await showAction(id, pause, '2.84', 'admin')).body.instanceAction.events[0];
    assert.deepEqual(Object.keys(a284), ['event', 'start_time', 'finish_time', 'result', 'traceback', 'host', 'hostId', 'details']);
    assert.equal(a284.details, null);
    assert.equal((await showAction(id, pause, '2.84')).body.instanceAction.events[0].details, undefined);
    const created = (await list(id)).body.instanceActions.at(-1).request_id as string;
    const events = (await showAction(id, created, '2.62')).body.instanceAction.events as { event: string; hostId: string }[];
    const conductor = events.find((e) => e.event === 'conductor_schedule_and_build_instances');
    assert.equal(conductor?.hostId, '', 'an event without a host has an empty hostId');
  });

  it('records a failed step: the action message, the event result, traceback and details for admins', async () => {
    const id = await boot(cloud);
    const host = (await cloud.request({ url: `/compute/v2.1/servers/${id}`, as: 'admin' })).body.server['OS-EXT-SRV-ATTR:host'] as string;
    cloud.compute.drivers.get(host)?.failNext('pause', { uuid: id, message: 'hypervisor said no' });
    const req = await act(id, { pause: null });
    await cloud.settle();
    const member = (await showAction(id, req, '2.84')).body.instanceAction;
    assert.equal(member.message, 'Error');
    assert.equal(member.events[0].result, 'Error');
    assert.equal(member.events[0].traceback, undefined);
    const admin = (await showAction(id, req, '2.84', 'admin')).body.instanceAction.events[0];
    assert.match(admin.traceback, /hypervisor said no/);
    assert.equal(admin.details, 'hypervisor said no');
  });

  it('404s for an unknown action, another project\'s server, and a deleted server before 2.21', async () => {
    const id = await boot(cloud);
    const missing = await showAction(id, 'req-00000000-0000-0000-0000-000000000000');
    assert.deepEqual(missing.body, { itemNotFound: { code: 404, message: 'Action req-00000000-0000-0000-0000-000000000000 not found' } });
    assert.equal((await list(id, '2.1', 'alt_demo')).status, 404);
    assert.equal((await list(id, '2.1', 'admin')).status, 200);
    const del = await cloud.request({ method: 'DELETE', url: `/compute/v2.1/servers/${id}` });
    assert.equal(del.status, 204);
    await cloud.settle();
    assert.deepEqual((await list(id, '2.20')).body, { itemNotFound: { code: 404, message: `Instance ${id} could not be found.` } });
    const after = await list(id, '2.21');
    assert.equal(after.status, 200);
    assert.deepEqual(after.body.instanceActions.map((a: { action: string }) => a.action), ['delete', 'create']);
    const delReq = after.body.instanceActions[0].request_id as string;
    assert.equal((await showAction(id, delReq, '2.21')).status, 200);
    assert.equal((await showAction(id, delReq, '2.20')).status, 404);
    assert.equal((await list(id, '2.21', 'alt_demo')).status, 404);
  });

  it('pages from 2.58: limit, marker (request id), next links', async () => {
    const { id, pause, unpause } = await busyServer();
    const first = await list(id, '2.58', 'demo', '?limit=1');
    assert.deepEqual(first.body.instanceActions.map((a: { request_id: string }) => a.request_id), [unpause]);
    assert.equal(first.body.links.length, 1);
    assert.equal(first.body.links[0].rel, 'next');
    const next = new URL(first.body.links[0].href);
    assert.equal(next.pathname, `/compute/v2.1/servers/${id}/os-instance-actions`);
    assert.equal(next.searchParams.get('marker'), unpause);
    assert.equal(next.searchParams.get('limit'), '1');
    const second = await list(id, '2.58', 'demo', next.search);
    assert.deepEqual(second.body.instanceActions.map((a: { request_id: string }) => a.request_id), [pause]);
    const rest = await list(id, '2.58', 'demo', `?marker=${pause}`);
    assert.deepEqual(rest.body.instanceActions.map((a: { action: string }) => a.action), ['create']);
    assert.equal(rest.body.links, undefined);
    assert.deepEqual((await list(id, '2.58', 'demo', '?limit=0')).body, { instanceActions: [] });
    const bad = await list(id, '2.58', 'demo', '?marker=nope');
    assert.deepEqual(bad.body, { badRequest: { code: 400, message: 'Marker None could not be found.' } });
    assert.equal((await list(id, '2.57', 'demo', '?limit=1')).body.instanceActions.length, 3, 'no paging before 2.58');
  });

  it('validates the 2.58+ query string and filters by changes-since / changes-before (2.66)', async () => {
    const { id } = await busyServer();
    const strict = await list(id, '2.58', 'demo', '?foo=1');
    assert.deepEqual(strict.body, { badRequest: { code: 400, message: "Additional properties are not allowed ('foo' was unexpected)" } });
    assert.equal((await list(id, '2.57', 'demo', '?foo=1')).status, 200);
    assert.equal((await list(id, '2.58', 'demo', '?limit=abc')).status, 400);
    assert.equal((await list(id, '2.58', 'demo', '?limit=1&limit=2')).status, 400);
    assert.equal((await list(id, '2.58', 'demo', '?changes-since=yesterday')).status, 400);
    assert.equal((await list(id, '2.65', 'demo', '?changes-before=2020-01-01T00:00:00Z')).status, 400, 'changes-before arrives in 2.66');
    const all = (await list(id, '2.58')).body.instanceActions as { updated_at: string; action: string }[];
    const newest = all[0]?.updated_at ?? '';
    const since = await list(id, '2.58', 'demo', `?changes-since=${encodeURIComponent(`${newest}Z`)}`);
    assert.deepEqual(since.body.instanceActions.map((a: { action: string }) => a.action), ['unpause']);
    const future = new Date(Date.parse(`${newest}Z`) + 3_600_000).toISOString();
    assert.deepEqual((await list(id, '2.58', 'demo', `?changes-since=${future}`)).body.instanceActions, []);
    const before = await list(id, '2.66', 'demo', `?changes-before=${encodeURIComponent('2000-01-01T00:00:00Z')}`);
    assert.deepEqual(before.body.instanceActions, []);
    assert.equal((await list(id, '2.66', 'demo', `?changes-before=${future}`)).body.instanceActions.length, 3);
    const inverted = await list(id, '2.66', 'demo', `?changes-since=${future}&changes-before=2000-01-01T00:00:00Z`);
    assert.deepEqual(inverted.body, { badRequest: { code: 400, message: 'The value of changes-since must be less than or equal to changes-before.' } });
    assert.equal((await showAction(id, all[0]?.action ?? 'x', '2.102')).status, 404);
    const strictShow = await cloud.request({ url: `/compute/v2.1/servers/${id}/os-instance-actions/x?y=1`, version: '2.102' });
    assert.equal(strictShow.status, 400);
  });

  it('follows the policy: list/show rules, events rule opens events to members', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stratus-ia-'));
    const file = join(dir, 'policy.yaml');
    writeFileSync(file, '"os_compute_api:os-instance-actions:events": "rule:project_member_or_admin"\n"os_compute_api:os-instance-actions:list": "rule:context_is_admin"\n');
    const c = await startTestCloud({ policy_file: file });
    try {
      const id = await boot(c);
      const listed = await c.request({ url: `/compute/v2.1/servers/${id}/os-instance-actions` });
      assert.deepEqual(listed.body, { forbidden: { code: 403, message: "Policy doesn't allow os_compute_api:os-instance-actions:list to be performed." } });
      const all = await c.request({ url: `/compute/v2.1/servers/${id}/os-instance-actions`, as: 'admin' });
      const req = all.body.instanceActions[0].request_id as string;
      const shown = await c.request({ url: `/compute/v2.1/servers/${id}/os-instance-actions/${req}` });
      assert.ok(Array.isArray(shown.body.instanceAction.events), 'events at 2.1 for whoever passes the events rule');
      assert.ok('traceback' in shown.body.instanceAction.events[0]);
    } finally {
      await c.close();
    }
  });
});
