import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestCloud, type TestCloud } from '../helpers/cloud.js';
import { boot } from '../helpers/servers.js';

describe('fault injection (admin extension)', () => {
  let cloud: TestCloud;
  before(async () => {
    cloud = await startTestCloud();
  });
  after(async () => {
    await cloud.close();
  });
  const url = '/compute/v2.1/stratus/fault-injections';

  it('is admin-only', async () => {
    const res = await cloud.request({ method: 'POST', url, body: { failure: { operation: 'spawn' } } });
    assert.equal(res.status, 403);
    assert.equal(res.body.forbidden.message, "Policy doesn't allow stratus:fault-injection to be performed.");
    assert.equal((await cloud.request({ url })).status, 403);
  });

  it('makes the next build fail on every host, then lists and clears', async () => {
    const res = await cloud.request({ method: 'POST', url, as: 'admin', body: { failure: { operation: 'spawn', message: 'no disk left' } } });
    assert.equal(res.status, 201, res.text);
    assert.equal(res.body.failures.length, cloud.config.compute.hosts.length);
    const id = await boot(cloud);
    const srv = (await cloud.request({ url: `/compute/v2.1/servers/${id}`, as: 'admin' })).body.server;
    assert.equal(srv.status, 'ERROR');
    // Every host was tried (the scheduler's alternates, max_attempts 3), as Nova reports it.
    assert.equal(srv.fault.message, `Exceeded maximum number of retries. Exhausted all hosts available for retrying build failures for instance ${id}.`);
    const [create] = (await cloud.request({ url: `/compute/v2.1/servers/${id}/os-instance-actions`, as: 'admin' })).body.instanceActions;
    const events = (await cloud.request({ url: `/compute/v2.1/servers/${id}/os-instance-actions/${String(create.request_id)}`, as: 'admin', version: '2.62' })).body.instanceAction.events as { event: string; result: string; traceback: string; host: string }[];
    const builds = events.filter((e) => e.event === 'compute__do_build_and_run_instance');
    assert.equal(builds.length, cloud.config.compute.hosts.length);
    assert.deepEqual(new Set(builds.map((e) => e.host)).size, builds.length, 'each host tried once');
    for (const e of builds) {
      assert.equal(e.result, 'Error');
      assert.match(e.traceback, /no disk left/);
    }
    assert.equal((await cloud.request({ method: 'DELETE', url, as: 'admin' })).status, 204);
    assert.deepEqual((await cloud.request({ url, as: 'admin' })).body, { failures: [] });
    assert.equal((await cloud.request({ url: `/compute/v2.1/servers/${await boot(cloud)}` })).body.server.status, 'ACTIVE');
  });

  it('targets one server on one host for N calls', async () => {
    const id = await boot(cloud);
    const host = (await cloud.request({ url: `/compute/v2.1/servers/${id}`, as: 'admin' })).body.server['OS-EXT-SRV-ATTR:host'];
    const res = await cloud.request({ method: 'POST', url, as: 'admin', body: { failure: { operation: 'pause', host, server_id: id, count: 2 } } });
    assert.deepEqual(res.body.failures, [{ host, operation: 'pause', server_id: id, remaining: 2, message: 'Injected failure of pause' }]);
    for (let i = 0; i < 2; i++) {
      assert.equal((await cloud.request({ method: 'POST', url: `/compute/v2.1/servers/${id}/action`, body: { pause: null } })).status, 202);
      await cloud.settle();
      assert.equal((await cloud.request({ url: `/compute/v2.1/servers/${id}` })).body.server.status, 'ACTIVE');
    }
    assert.equal((await cloud.request({ method: 'POST', url: `/compute/v2.1/servers/${id}/action`, body: { pause: null } })).status, 202);
    await cloud.settle();
    assert.equal((await cloud.request({ url: `/compute/v2.1/servers/${id}` })).body.server.status, 'PAUSED');
  });

  it('rejects unknown operations and hosts', async () => {
    assert.equal((await cloud.request({ method: 'POST', url, as: 'admin', body: { failure: { operation: 'explode' } } })).status, 400);
    const host = await cloud.request({ method: 'POST', url, as: 'admin', body: { failure: { operation: 'spawn', host: 'nowhere' } } });
    assert.equal(host.status, 400);
    assert.equal(host.body.badRequest.message, 'Compute host nowhere could not be found.');
  });
});
