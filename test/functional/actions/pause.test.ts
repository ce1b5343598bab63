import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestCloud, type TestCloud } from '../../helpers/cloud.js';
import { boot } from '../../helpers/servers.js';

describe('action: pause / unpause (the exemplar)', () => {
  let cloud: TestCloud;
  before(async () => {
    cloud = await startTestCloud();
  });
  after(async () => {
    await cloud.close();
  });
  const act = (id: string, body: unknown, as: 'demo' | 'admin' | 'alt_demo' = 'demo', version?: string) =>
    cloud.request({ method: 'POST', url: `/compute/v2.1/servers/${id}/action`, as, body, ...(version ? { version } : {}) });
  const show = async (id: string) => (await cloud.request({ url: `/compute/v2.1/servers/${id}`, as: 'admin' })).body.server;

  it('pauses through task_state pausing to PAUSED, then unpauses to ACTIVE', async () => {
    const id = await boot(cloud);
    const res = await act(id, { pause: null });
    assert.equal(res.status, 202);
    assert.equal(res.text, '');
    const during = await show(id);
    assert.equal(during['OS-EXT-STS:task_state'], 'pausing');
    assert.equal(during.status, 'ACTIVE');
    await cloud.bus.drain();
    const paused = await show(id);
    assert.equal(paused.status, 'PAUSED');
    assert.equal(paused['OS-EXT-STS:power_state'], 3);
    assert.equal(paused['OS-EXT-STS:task_state'], null);
    assert.equal((await act(id, { unpause: null })).status, 202);
    await cloud.bus.drain();
    assert.equal((await show(id)).status, 'ACTIVE');
  });

  it('refuses a wrong vm_state or a task in progress with 409', async () => {
    const id = await boot(cloud);
    const un = await act(id, { unpause: null });
    assert.equal(un.status, 409);
    assert.deepEqual(un.body, { conflictingRequest: { code: 409, message: `Cannot 'unpause' instance ${id} while it is in vm_state active` } });
  });

  it('refuses while another task runs, and the task is visible meanwhile', async () => {
    const slow = await startTestCloud({ compute: { timing: 'visible', step_ms: 1000 } });
    try {
      const id = await boot(slow, { wait: false });
      await slow.settle();
      const res = await slow.request({ method: 'POST', url: `/compute/v2.1/servers/${id}/action`, body: { pause: null } });
      assert.equal(res.status, 202);
      await new Promise((r) => setImmediate(r));
      const again = await slow.request({ method: 'POST', url: `/compute/v2.1/servers/${id}/action`, body: { pause: null } });
      assert.equal(again.status, 409);
      assert.equal(again.body.conflictingRequest.message, `Cannot 'pause' instance ${id} while it is in task_state pausing`);
      assert.equal((await slow.request({ url: `/compute/v2.1/servers/${id}` })).body.server['OS-EXT-STS:task_state'], 'pausing');
      await slow.settle();
      assert.equal((await slow.request({ url: `/compute/v2.1/servers/${id}` })).body.server.status, 'PAUSED');
    } finally {
      await slow.close();
    }
  });

  it('lets exactly one of two racing requests win', async () => {
    const id = await boot(cloud);
    const [a, b] = await Promise.all([act(id, { pause: null }), act(id, { pause: null })]);
    assert.deepEqual([a.status, b.status].sort(), [202, 409]);
    await cloud.bus.drain();
  });

  it('validates the body and the action key', async () => {
    const id = await boot(cloud);
    assert.equal((await act(id, { pause: {} })).status, 400);
    const unknown = await act(id, { frobnicate: null });
    assert.deepEqual(unknown.body, { badRequest: { code: 400, message: 'There is no such action: frobnicate' } });
    const two = await act(id, { pause: null, unpause: null });
    assert.deepEqual(two.body, { badRequest: { code: 400, message: 'Malformed request body' } });
    assert.equal((await act(id, {})).status, 400);
  });

  it('hides another project\'s server (404) and asks the policy', async () => {
    const id = await boot(cloud);
    assert.equal((await act(id, { pause: null }, 'alt_demo')).status, 404);
    assert.equal((await act('00000000-0000-0000-0000-000000000000', { pause: null })).status, 404);
    assert.equal((await act(id, { pause: null }, 'admin')).status, 202, 'admins act on any project');
    await cloud.bus.drain();
  });

  it('records a driver failure: task_state reverted, fault and failed event', async () => {
    const id = await boot(cloud);
    const admin = await show(id);
    cloud.compute.drivers.get(admin['OS-EXT-SRV-ATTR:host'])?.failNext('pause', { uuid: id, message: 'hypervisor said no' });
    const res = await act(id, { pause: null });
    assert.equal(res.status, 202);
    await cloud.bus.drain();
    const after = await show(id);
    assert.equal(after.status, 'ACTIVE');
    assert.equal(after['OS-EXT-STS:task_state'], null);
    const requestId = String(res.headers['x-openstack-request-id']);
    const action = await cloud.db.selectFrom('instance_actions').selectAll().where('request_id', '=', requestId).executeTakeFirstOrThrow();
    assert.equal(action.action, 'pause');
    assert.equal(action.message, 'Error');
    const ev = await cloud.db.selectFrom('instance_actions_events').selectAll().where('action_id', '=', action.id).executeTakeFirstOrThrow();
    assert.equal(ev.event, 'compute_pause_instance');
    assert.equal(ev.result, 'Error');
    assert.match(ev.traceback ?? '', /hypervisor said no/);
  });
});
