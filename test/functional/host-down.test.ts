import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestCloud, type TestCloud } from '../helpers/cloud.js';
import { boot } from '../helpers/servers.js';
import { assertLedger } from '../helpers/ledger.js';

type Json = Record<string, unknown>;

/**
 * A compute host failing in the middle of a move (its guests lost, calls to
 * it timing out, casts waiting) and coming back: the server ends where Nova
 * would leave it, nothing stays in a transitional state once the host is
 * back, and the ledger holds.
 */
describe('a host going down mid-move', () => {
  let cloud: TestCloud;
  before(async () => {
    cloud = await startTestCloud({ compute: { hosts: [{ name: 'h1', shared_storage: 's' }, { name: 'h2', shared_storage: 's' }], timing: 'visible', step_ms: 1000 } });
  });
  after(async () => {
    await cloud.close();
  });
  afterEach(async () => {
    for (const h of ['h1', 'h2']) await cloud.compute.hostUp(h);
    await cloud.settle();
  });

  const act = (id: string, body: unknown, version = '2.34') => cloud.request({ method: 'POST', url: `/compute/v2.1/servers/${id}/action`, as: 'admin', body, version });
  const show = async (id: string): Promise<Json> => (await cloud.request({ url: `/compute/v2.1/servers/${id}`, as: 'admin', version: '2.47' })).body.server as Json;
  const migrations = async (id: string): Promise<Json[]> =>
    (await cloud.request({ url: `/compute/v2.1/os-migrations?instance_uuid=${id}`, as: 'admin', version: '2.80' })).body.migrations as Json[];
  const bootOn = (host: string) => boot(cloud, { as: 'admin', version: '2.74', extra: { host, networks: 'auto' } });

  it('live migration: the destination dies while memory is copied; the server stays on the source', async () => {
    const id = await bootOn('h1');
    assert.equal((await act(id, { 'os-migrateLive': { host: 'h2', block_migration: 'auto', force: true } }, '2.34')).status, 202);
    await cloud.stepUntil(async () => (await migrations(id))[0]?.status === 'running');
    cloud.compute.hostDown('h2');
    await cloud.settle();
    const s = await show(id);
    assert.equal(s.status, 'ACTIVE');
    assert.equal(s['OS-EXT-STS:task_state'], null);
    assert.equal(s['OS-EXT-SRV-ATTR:host'], 'h1');
    assert.equal((await migrations(id))[0]?.status, 'error');
    await cloud.compute.hostUp('h2');
    await cloud.settle();
    assert.deepEqual(await cloud.compute.drivers.get('h2')?.listGuests(), []);
    await assertLedger(cloud, { label: 'live migration, destination down' });
  });

  it('resize: the destination is down when the guest arrives; the finish waits for it, then VERIFY_RESIZE', async () => {
    const id = await bootOn('h1');
    assert.equal((await act(id, { resize: { flavorRef: '2' } })).status, 202);
    cloud.compute.hostDown('h2');
    await cloud.settle();
    let s = await show(id);
    assert.equal(s.status, 'RESIZE');
    assert.equal(s['OS-EXT-STS:task_state'], 'resize_migrated');
    await cloud.compute.hostUp('h2');
    await cloud.settle();
    s = await show(id);
    assert.equal(s.status, 'VERIFY_RESIZE');
    assert.equal(s['OS-EXT-SRV-ATTR:host'], 'h2');
    await assertLedger(cloud, { label: 'resize, destination down' });
    assert.equal((await act(id, { confirmResize: null })).status, 204);
    await cloud.settle();
    assert.equal((await show(id)).status, 'ACTIVE');
    await assertLedger(cloud, { label: 'resize confirmed' });
  });

  it('resize: the source dies before sending the guest; when it is back the resize is rolled back', async () => {
    const id = await bootOn('h1');
    assert.equal((await act(id, { resize: { flavorRef: '2' } })).status, 202);
    cloud.compute.hostDown('h1');
    await cloud.settle();
    assert.equal((await show(id)).status, 'RESIZE');
    await cloud.compute.hostUp('h1');
    await cloud.settle();
    const s = await show(id);
    assert.equal(s.status, 'ACTIVE');
    assert.equal(s['OS-EXT-STS:task_state'], null);
    assert.equal(s['OS-EXT-SRV-ATTR:host'], 'h1');
    assert.equal((s.flavor as Json).original_name, 'm1.tiny');
    assert.equal((await migrations(id))[0]?.status, 'error');
    await assertLedger(cloud, { label: 'resize, source down' });
  });

  it('evacuate from a host that died; when it comes back it holds nothing', async () => {
    const id = await bootOn('h1');
    cloud.compute.hostDown('h1');
    await cloud.clock.advance(120_000);
    const res = await act(id, { evacuate: {} }, '2.68');
    assert.equal(res.status, 200);
    await cloud.settle();
    assert.equal((await show(id))['OS-EXT-SRV-ATTR:host'], 'h2');
    await cloud.compute.hostUp('h1');
    await cloud.settle();
    assert.equal((await migrations(id))[0]?.status, 'completed');
    assert.equal((await cloud.compute.drivers.get('h1')?.listGuests())?.includes(id), false);
    await assertLedger(cloud, { label: 'evacuated, old host back' });
  });
});

describe('switching a simulated host off and on through the admin API', () => {
  let cloud: TestCloud;
  before(async () => {
    cloud = await startTestCloud({ compute: { hosts: [{ name: 'h1' }, { name: 'h2' }] } });
  });
  after(async () => {
    await cloud.close();
  });

  it('takes the host down (its service goes down, its guests are lost) and brings it back with its servers', async () => {
    const id = await boot(cloud, { as: 'admin', version: '2.74', extra: { host: 'h1', networks: 'auto' } });
    const url = '/compute/v2.1/stratus/fault-injections/hosts/h1';
    assert.equal((await cloud.request({ method: 'PUT', url, as: 'demo', body: { host: { state: 'down' } } })).status, 403);
    assert.equal((await cloud.request({ method: 'PUT', url: '/compute/v2.1/stratus/fault-injections/hosts/nope', as: 'admin', body: { host: { state: 'down' } } })).status, 404);
    assert.equal((await cloud.request({ method: 'PUT', url, as: 'admin', body: { host: { state: 'sideways' } } })).status, 400);
    const down = await cloud.request({ method: 'PUT', url, as: 'admin', body: { host: { state: 'down' } } });
    assert.equal(down.status, 200);
    assert.deepEqual(down.body, { host: { name: 'h1', state: 'down' } });
    assert.deepEqual(await cloud.compute.drivers.get('h1')?.listGuests(), []);
    await cloud.clock.advance(120_000);
    const svc = (await cloud.request({ url: '/compute/v2.1/os-services?host=h1', as: 'admin' })).body.services as Json[];
    assert.equal(svc[0]?.state, 'down');
    const up = await cloud.request({ method: 'PUT', url, as: 'admin', body: { host: { state: 'up' } } });
    assert.equal(up.status, 200);
    await cloud.settle();
    assert.deepEqual(await cloud.compute.drivers.get('h1')?.listGuests(), [id]);
    assert.equal(((await cloud.request({ url: '/compute/v2.1/os-services?host=h1', as: 'admin' })).body.services as Json[])[0]?.state, 'up');
  });
});
