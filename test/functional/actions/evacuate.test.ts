import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestCloud, type TestCloud } from '../../helpers/cloud.js';
import { boot } from '../../helpers/servers.js';
import { assertLedger } from '../../helpers/ledger.js';

type Who = 'demo' | 'admin' | 'alt_demo';
type Json = Record<string, unknown>;

const HOSTS = { hosts: [{ name: 'h1' }, { name: 'h2' }, { name: 'h3' }] };

describe('action: evacuate', () => {
  let cloud: TestCloud;
  before(async () => {
    cloud = await startTestCloud({ compute: HOSTS });
  });
  after(async () => {
    await cloud.close();
  });
  afterEach(async (t) => {
    await cloud.settle();
    await assertLedger(cloud, { label: t.name });
  });

  const act = (id: string, body: unknown, version: string, as: Who = 'admin') =>
    cloud.request({ method: 'POST', url: `/compute/v2.1/servers/${id}/action`, as, body, version });
  const evacuate = (id: string, o: Json = {}, version = '2.14', as: Who = 'admin') => act(id, { evacuate: o }, version, as);
  const show = async (id: string): Promise<Json> => (await cloud.request({ url: `/compute/v2.1/servers/${id}`, as: 'admin', version: '2.47' })).body.server as Json;
  const migrations = async (id: string): Promise<Json[]> =>
    (await cloud.request({ url: `/compute/v2.1/os-migrations?instance_uuid=${id}`, as: 'admin', version: '2.80' })).body.migrations as Json[];
  const bootOn = async (host: string, as: Who = 'admin'): Promise<string> => {
    const id = await boot(cloud, { as, version: '2.74', extra: { host, networks: 'auto' } });
    return id;
  };
  const forceDown = async (host: string, down: boolean) => {
    const res = await cloud.request({ method: 'PUT', url: '/compute/v2.1/os-services/force-down', as: 'admin', version: '2.11', body: { host, binary: 'nova-compute', forced_down: down } });
    assert.equal(res.status, 200);
  };
  const usage = async (): Promise<Record<string, number>> => {
    const res = await cloud.request({ url: '/compute/v2.1/os-hypervisors/detail', as: 'admin', version: '2.87' });
    return Object.fromEntries((res.body.hypervisors as Json[]).map((h) => [String(h.hypervisor_hostname), Number(h.memory_mb_used)]));
  };
  const guestsOf = async (host: string) => (await cloud.compute.drivers.get(host)?.listGuests()) ?? [];

  beforeEach(async () => {
    for (const h of ['h1', 'h2', 'h3']) await forceDown(h, false);
  });

  it('is refused while the source compute service is up', async () => {
    const id = await bootOn('h1');
    const res = await evacuate(id);
    assert.equal(res.status, 400);
    assert.equal(res.body.badRequest.message, 'Compute service of h1 is still in use.');
    assert.equal((await show(id)).status, 'ACTIVE');
  });

  it('rebuilds the server elsewhere once the host is forced down; the old host cleans up when it comes back', async () => {
    const id = await bootOn('h1');
    const before = await usage();
    await forceDown('h1', true);
    const res = await evacuate(id, {}, '2.14');
    assert.equal(res.status, 200);
    assert.equal(res.text, '');
    const during = await show(id);
    assert.equal(during.status, 'REBUILD');
    assert.equal(during['OS-EXT-STS:task_state'], 'rebuilding');
    await cloud.settle();
    const s = await show(id);
    assert.equal(s.status, 'ACTIVE');
    assert.notEqual(s['OS-EXT-SRV-ATTR:host'], 'h1');
    const dest = String(s['OS-EXT-SRV-ATTR:host']);
    const [m] = await migrations(id);
    assert.equal(m?.migration_type, 'evacuation');
    assert.equal(m?.status, 'done');
    assert.equal(m?.source_compute, 'h1');
    assert.equal(m?.dest_compute, dest);
    // The dead host keeps its allocation (and its stale guest) until it is back.
    const held = await usage();
    assert.equal(held.h1, before.h1);
    assert.equal(held[dest], (before[dest] ?? 0) + 512);
    assert.ok((await guestsOf('h1')).includes(id));
    assert.ok((await guestsOf(dest)).includes(id));
    const acts = (await cloud.request({ url: `/compute/v2.1/servers/${id}/os-instance-actions`, as: 'admin', version: '2.84' })).body.instanceActions as Json[];
    assert.equal(acts[0]?.action, 'evacuate');
    const evs = (await cloud.request({ url: `/compute/v2.1/servers/${id}/os-instance-actions/${String(acts[0]?.request_id)}`, as: 'admin', version: '2.84' })).body.instanceAction.events as Json[];
    assert.deepEqual(evs.map((e) => `${String(e.event)}:${String(e.result)}`).sort(), ['compute_rebuild_instance:Success', 'conductor_rebuild_instance:Success']);

    await forceDown('h1', false);
    await cloud.clock.advance(10_000);
    await cloud.compute.periodic.tick();
    await cloud.settle();
    assert.equal((await migrations(id))[0]?.status, 'completed');
    assert.equal((await guestsOf('h1')).includes(id), false);
    assert.equal((await usage()).h1, (before.h1 ?? 0) - 512);
    await cloud.request({ method: 'DELETE', url: `/compute/v2.1/servers/${id}`, as: 'admin' });
    await cloud.settle();
  });

  it('below 2.14 needs onSharedStorage and returns the admin password; 2.95 leaves the server stopped', async () => {
    const id = await bootOn('h1');
    await forceDown('h1', true);
    assert.equal((await evacuate(id, {}, '2.13')).status, 400);
    const both = await evacuate(id, { onSharedStorage: true, adminPass: 'x' }, '2.13');
    assert.equal(both.status, 400);
    assert.equal(both.body.badRequest.message, "admin password can't be changed on existing disk");
    const res = await evacuate(id, { onSharedStorage: false, host: 'h2' }, '2.13');
    assert.equal(res.status, 200);
    assert.equal(typeof res.body.adminPass, 'string');
    await cloud.settle();
    assert.equal((await show(id))['OS-EXT-SRV-ATTR:host'], 'h2');

    await forceDown('h2', true);
    const stop = await evacuate(id, { host: 'h3' }, '2.95');
    assert.equal(stop.status, 200);
    await cloud.settle();
    const s = await show(id);
    assert.equal(s.status, 'SHUTOFF');
    assert.equal(s['OS-EXT-SRV-ATTR:host'], 'h3');
    assert.equal(s['OS-EXT-STS:power_state'], 4);
  });

  it('a stopped server stays stopped; an ERROR server comes back ACTIVE; a locked one can be evacuated', async () => {
    const stopped = await bootOn('h1');
    assert.equal((await act(stopped, { 'os-stop': null }, '2.1')).status, 202);
    const broken = await bootOn('h1');
    assert.equal((await act(broken, { 'os-resetState': { state: 'error' } }, '2.1')).status, 202);
    const locked = await bootOn('h1');
    assert.equal((await act(locked, { lock: null }, '2.1')).status, 202);
    await cloud.settle();
    await forceDown('h1', true);
    for (const id of [stopped, broken, locked]) assert.equal((await evacuate(id, {}, '2.29')).status, 200);
    await cloud.settle();
    assert.equal((await show(stopped)).status, 'SHUTOFF');
    assert.equal((await show(broken)).status, 'ACTIVE');
    assert.equal((await show(locked)).status, 'ACTIVE');
  });

  it('checks the body, the target host, the state and the policy as Nova does', async () => {
    const id = await bootOn('h1');
    await forceDown('h1', true);
    const unknown = await evacuate(id, { host: 'nowhere' });
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.itemNotFound.message, 'Compute host nowhere not found.');
    const same = await evacuate(id, { host: 'h1' });
    assert.equal(same.status, 400);
    assert.equal(same.body.badRequest.message, "The target host can't be the same one.");
    const force = await evacuate(id, { force: true }, '2.29');
    assert.equal(force.status, 400);
    assert.equal(force.body.badRequest.message, "Can't force to a non-provided destination");
    assert.equal((await evacuate(id, { host: 'h2', force: true }, '2.68')).status, 400);
    assert.equal((await evacuate(id, { onSharedStorage: true }, '2.14')).status, 400);
    assert.equal((await act(id, { pause: null }, '2.1')).status, 202);
    await forceDown('h1', false);
    await cloud.settle();
    await forceDown('h1', true);
    const paused = await evacuate(id);
    assert.equal(paused.status, 409);
    assert.equal(paused.body.conflictingRequest.message, `Cannot 'evacuate' instance ${id} while it is in vm_state paused`);
    const mine = await boot(cloud);
    await forceDown('h1', true);
    await forceDown('h2', true);
    await forceDown('h3', true);
    const member = await evacuate(mine, {}, '2.14', 'demo');
    assert.equal(member.status, 403);
    assert.equal(member.body.forbidden.message, "Policy doesn't allow os_compute_api:os-evacuate to be performed.");
  });

  it('no valid host: ERROR with a fault, migration error; a failed rebuild: ERROR, still on the failed source, migration failed', async () => {
    const id = await bootOn('h1');
    await forceDown('h1', true);
    await forceDown('h2', true);
    await forceDown('h3', true);
    assert.equal((await evacuate(id)).status, 200);
    await cloud.settle();
    let s = await show(id);
    assert.equal(s.status, 'ERROR');
    assert.equal((s.fault as Json).message, 'No valid host was found. There are not enough hosts available.');
    assert.equal(s['OS-EXT-SRV-ATTR:host'], 'h1');
    assert.equal((await migrations(id))[0]?.status, 'error');

    await forceDown('h2', false);
    cloud.compute.drivers.get('h2')?.failNext('spawn', { uuid: id, message: 'no room in the rack' });
    assert.equal((await evacuate(id, { host: 'h2' })).status, 200);
    await cloud.settle();
    s = await show(id);
    assert.equal(s.status, 'ERROR');
    assert.equal(s['OS-EXT-SRV-ATTR:host'], 'h1');
    assert.equal((s.fault as Json).message, 'no room in the rack');
    assert.equal((await migrations(id))[0]?.status, 'failed');
    assert.equal((await guestsOf('h2')).includes(id), false);
  });

  it('is allowed when the source stopped heartbeating (not forced down)', async () => {
    const id = await bootOn('h3');
    cloud.compute.heartbeat.pause('h3');
    await cloud.clock.advance(120_000);
    const res = await evacuate(id, {}, '2.68');
    assert.equal(res.status, 200);
    await cloud.settle();
    assert.notEqual((await show(id))['OS-EXT-SRV-ATTR:host'], 'h3');
    cloud.compute.heartbeat.resume('h3');
    await cloud.compute.heartbeat.tick();
    await cloud.clock.advance(10_000);
    await cloud.compute.periodic.tick();
    await cloud.settle();
    assert.equal((await migrations(id))[0]?.status, 'completed');
  });
});
