import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestCloud, type TestCloud } from '../helpers/cloud.js';
import { boot } from '../helpers/servers.js';

const URL = '/compute/v2.1/os-services';

describe('os-services', () => {
  let cloud: TestCloud;
  before(async () => {
    cloud = await startTestCloud();
  });
  after(async () => {
    await cloud.close();
  });
  const list = async (version = '2.1', query = '') => cloud.request({ url: `${URL}${query}`, as: 'admin', version });
  const computes = async (version = '2.53') => ((await list(version, '?binary=nova-compute')).body.services as Record<string, unknown>[]);
  const put = (path: string, body: unknown, version = '2.1', as: 'admin' | 'demo' = 'admin') => cloud.request({ method: 'PUT', url: `${URL}/${path}`, as, version, body });
  const uuidOf = async (host: string) => (await computes()).find((s) => s.host === host)?.id as string;
  const serverShow = async (id: string, version = '2.16') => (await cloud.request({ url: `/compute/v2.1/servers/${id}`, as: 'admin', version })).body.server;

  beforeEach(async () => {
    // Every test starts from enabled, not forced down, heartbeating computes.
    for (const host of ['compute1', 'compute2']) {
      cloud.compute.heartbeat.resume(host);
      await put('enable', { host, binary: 'nova-compute' });
      await put('force-down', { host, binary: 'nova-compute', forced_down: false }, '2.11');
    }
    await cloud.compute.heartbeat.tick();
  });

  it('lists the compute hosts, the conductor and the scheduler, shaped per microversion', async () => {
    const v21 = await list('2.1');
    assert.equal(v21.status, 200);
    const services = v21.body.services as Record<string, unknown>[];
    assert.deepEqual(services.map((s) => s.binary), ['nova-compute', 'nova-compute', 'nova-conductor', 'nova-scheduler']);
    const first = services[0] ?? {};
    assert.deepEqual(Object.keys(first).sort(), ['binary', 'disabled_reason', 'host', 'id', 'state', 'status', 'updated_at', 'zone']);
    assert.equal(typeof first.id, 'number');
    assert.equal(first.zone, 'nova');
    assert.equal(first.status, 'enabled');
    assert.equal(first.state, 'up');
    assert.match(String(first.updated_at), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000000$/);
    assert.equal(services[2]?.zone, 'internal');
    const v211 = (await list('2.11')).body.services[0];
    assert.equal(v211.forced_down, false);
    assert.equal(typeof v211.id, 'number');
    const v253 = (await list('2.53')).body.services[0];
    assert.match(v253.id, /^[0-9a-f-]{36}$/);
  });

  it('filters by host and binary', async () => {
    const byHost = (await list('2.1', '?host=compute2')).body.services as Record<string, unknown>[];
    assert.deepEqual(byHost.map((s) => s.host), ['compute2']);
    const sched = (await list('2.1', '?binary=nova-scheduler')).body.services as Record<string, unknown>[];
    assert.deepEqual(sched.map((s) => s.binary), ['nova-scheduler']);
    assert.equal((await list('2.75', '?foo=1')).status, 400);
    assert.equal((await list('2.74', '?foo=1')).status, 200);
  });

  it('is admin-only', async () => {
    const res = await cloud.request({ url: URL, as: 'demo' });
    assert.equal(res.status, 403);
    assert.equal(res.body.forbidden.message, "Policy doesn't allow os_compute_api:os-services:list to be performed.");
    assert.equal((await put('disable', { host: 'compute1', binary: 'nova-compute' }, '2.1', 'demo')).status, 403);
    assert.equal((await cloud.request({ method: 'DELETE', url: `${URL}/1`, as: 'demo' })).status, 403);
  });

  it('disables and enables by host and binary below 2.53', async () => {
    const dis = await put('disable-log-reason', { host: 'compute1', binary: 'nova-compute', disabled_reason: 'maintenance' });
    assert.equal(dis.status, 200);
    assert.deepEqual(dis.body, { service: { host: 'compute1', binary: 'nova-compute', status: 'disabled', disabled_reason: 'maintenance' } });
    const row = (await computes('2.1')).find((s) => s.host === 'compute1');
    assert.equal(row?.status, 'disabled');
    assert.equal(row?.disabled_reason, 'maintenance');
    const plain = await put('disable', { host: 'compute1', binary: 'nova-compute' });
    assert.deepEqual(plain.body, { service: { host: 'compute1', binary: 'nova-compute', status: 'disabled' } });
    const en = await put('enable', { host: 'compute1', binary: 'nova-compute' });
    assert.deepEqual(en.body, { service: { host: 'compute1', binary: 'nova-compute', status: 'enabled' } });
    assert.equal((await computes('2.1')).find((s) => s.host === 'compute1')?.disabled_reason, null);
  });

  it('refuses bad updates below 2.53 as Nova does', async () => {
    const missing = await put('disable-log-reason', { host: 'compute1', binary: 'nova-compute' });
    assert.equal(missing.status, 400);
    assert.equal(missing.body.badRequest.message, 'Missing disabled reason field');
    const other = await put('disable', { host: 'vm', binary: 'nova-scheduler' });
    assert.equal(other.status, 400);
    assert.equal(other.body.badRequest.message, 'Updating a nova-scheduler service is not supported. Only nova-compute services can be updated.');
    const nohost = await put('disable', { host: 'nowhere', binary: 'nova-compute' });
    assert.equal(nohost.status, 404);
    assert.equal(nohost.body.itemNotFound.message, 'Could not find binary nova-compute on host nowhere.');
    assert.equal((await put('reboot', { host: 'compute1', binary: 'nova-compute' })).status, 404);
    // force-down exists from 2.11 only.
    assert.equal((await put('force-down', { host: 'compute1', binary: 'nova-compute', forced_down: true }, '2.10')).status, 400);
    assert.equal((await put('force-down', { host: 'compute1', binary: 'nova-compute' }, '2.11')).body.badRequest.message, 'Missing forced_down field');
    assert.equal((await put('disable', { binary: 'nova-compute' })).status, 400);
    assert.equal((await put('disable', { host: 'compute1', binary: 'nova-compute', extra: 1 })).status, 400);
  });

  it('updates by uuid from 2.53', async () => {
    const id = await uuidOf('compute2');
    const dis = await put(id, { status: 'disabled', disabled_reason: 'bios' }, '2.53');
    assert.equal(dis.status, 200);
    assert.equal(dis.body.service.id, id);
    assert.equal(dis.body.service.status, 'disabled');
    assert.equal(dis.body.service.disabled_reason, 'bios');
    assert.equal(dis.body.service.forced_down, false);
    const fd = await put(id, { forced_down: true }, '2.53');
    assert.equal(fd.body.service.forced_down, true);
    assert.equal(fd.body.service.state, 'down');
    const en = await put(id, { status: 'enabled', forced_down: false }, '2.53');
    assert.equal(en.body.service.status, 'enabled');
    assert.equal(en.body.service.disabled_reason, null);
    assert.equal(en.body.service.state, 'up');
    const bad = await put(id, { status: 'enabled', disabled_reason: 'x' }, '2.53');
    assert.equal(bad.status, 400);
    assert.equal(bad.body.badRequest.message, "Specifying 'disabled_reason' with status 'enabled' is invalid.");
    const none = await put(id, {}, '2.53');
    assert.equal(none.body.badRequest.message, "No updates were requested. Fields 'status' or 'forced_down' should be specified.");
    assert.equal((await put('not-a-uuid', { status: 'enabled' }, '2.53')).body.badRequest.message, 'Invalid uuid not-a-uuid');
    const missing = await put('3f3e1d0e-5d4c-4b1a-9f0e-000000000000', { status: 'enabled' }, '2.53');
    assert.equal(missing.status, 404);
    assert.equal(missing.body.itemNotFound.message, 'Service 3f3e1d0e-5d4c-4b1a-9f0e-000000000000 could not be found.');
    const sched = (await list('2.53', '?binary=nova-scheduler')).body.services[0].id as string;
    assert.equal((await put(sched, { status: 'disabled' }, '2.53')).status, 400);
    assert.equal((await put(id, { status: 'off' }, '2.53')).status, 400);
  });

  it('keeps new servers off a disabled host; all disabled is No valid host', async () => {
    await put('disable', { host: 'compute1', binary: 'nova-compute' });
    for (let i = 0; i < 3; i++) {
      const id = await boot(cloud);
      const s = await serverShow(id);
      assert.equal(s['OS-EXT-SRV-ATTR:host'], 'compute2');
      await cloud.request({ method: 'DELETE', url: `/compute/v2.1/servers/${id}`, as: 'demo' });
      await cloud.settle();
    }
    await put('disable', { host: 'compute2', binary: 'nova-compute' });
    const id = await boot(cloud);
    const s = await serverShow(id);
    assert.equal(s.status, 'ERROR');
    assert.equal(s.fault.message, 'No valid host was found. There are not enough hosts available.');
    await cloud.request({ method: 'DELETE', url: `/compute/v2.1/servers/${id}`, as: 'demo' });
    await cloud.settle();
  });

  it('shows host_status UP, MAINTENANCE, DOWN and UNKNOWN (2.16, admin)', async () => {
    const id = await boot(cloud);
    const host = (await serverShow(id))['OS-EXT-SRV-ATTR:host'] as string;
    assert.equal((await serverShow(id)).host_status, 'UP');
    assert.equal('host_status' in (await serverShow(id, '2.15')), false);
    await put('disable', { host, binary: 'nova-compute' });
    assert.equal((await serverShow(id)).host_status, 'MAINTENANCE');
    const detail = await cloud.request({ url: '/compute/v2.1/servers/detail?all_tenants=1', as: 'admin', version: '2.16' });
    assert.equal((detail.body.servers as Record<string, unknown>[]).find((s) => s.id === id)?.host_status, 'MAINTENANCE');
    await put('enable', { host, binary: 'nova-compute' });
    await put('force-down', { host, binary: 'nova-compute', forced_down: true }, '2.11');
    assert.equal((await serverShow(id)).host_status, 'DOWN');
    await put('force-down', { host, binary: 'nova-compute', forced_down: 'false' }, '2.11');
    assert.equal((await serverShow(id)).host_status, 'UP');
    // Members do not see it.
    const member = (await cloud.request({ url: `/compute/v2.1/servers/${id}`, as: 'demo', version: '2.16' })).body.server;
    assert.equal('host_status' in member, false);
    await cloud.request({ method: 'DELETE', url: `/compute/v2.1/servers/${id}`, as: 'demo' });
    await cloud.settle();
  });

  it('reports a host down once its heartbeat is older than service_down_time', async () => {
    const id = await boot(cloud);
    const host = (await serverShow(id))['OS-EXT-SRV-ATTR:host'] as string;
    const other = host === 'compute1' ? 'compute2' : 'compute1';
    cloud.compute.heartbeat.pause(host);
    await cloud.clock.advance(30_000);
    await cloud.compute.heartbeat.tick();
    assert.equal((await computes('2.1')).find((s) => s.host === host)?.state, 'up');
    await cloud.clock.advance(31_000);
    await cloud.compute.heartbeat.tick();
    const states = await computes('2.1');
    assert.equal(states.find((s) => s.host === host)?.state, 'down');
    assert.equal(states.find((s) => s.host === other)?.state, 'up');
    assert.equal((await serverShow(id)).host_status, 'UNKNOWN');
    // The scheduler skips the silent host.
    const next = await boot(cloud);
    assert.equal((await serverShow(next))['OS-EXT-SRV-ATTR:host'], other);
    const az = (await cloud.request({ url: '/compute/v2.1/os-availability-zone/detail', as: 'admin' })).body.availabilityZoneInfo as { zoneName: string; hosts: Record<string, Record<string, { available: boolean }>> }[];
    assert.equal(az.find((z) => z.zoneName === 'nova')?.hosts[host]?.['nova-compute']?.available, false);
    cloud.compute.heartbeat.resume(host);
    await cloud.compute.heartbeat.tick();
    assert.equal((await serverShow(id)).host_status, 'UP');
    for (const s of [id, next]) await cloud.request({ method: 'DELETE', url: `/compute/v2.1/servers/${s}`, as: 'demo' });
    await cloud.settle();
  });

  it('availability zone detail leaves out disabled services', async () => {
    await put('disable', { host: 'compute1', binary: 'nova-compute' });
    const az = (await cloud.request({ url: '/compute/v2.1/os-availability-zone/detail', as: 'admin' })).body.availabilityZoneInfo as { zoneName: string; hosts: Record<string, unknown> }[];
    assert.deepEqual(Object.keys(az.find((z) => z.zoneName === 'nova')?.hosts ?? {}), ['compute2']);
    assert.ok(az.find((z) => z.zoneName === 'internal'));
  });

  it('deletes a service, refusing a compute host that has servers', async () => {
    const id = await boot(cloud);
    const host = (await serverShow(id))['OS-EXT-SRV-ATTR:host'] as string;
    const svc = (await computes('2.1')).find((s) => s.host === host);
    const refused = await cloud.request({ method: 'DELETE', url: `${URL}/${String(svc?.id)}`, as: 'admin' });
    assert.equal(refused.status, 409);
    assert.equal(refused.body.conflictingRequest.message, 'Unable to delete compute service that is hosting instances. Migrate or delete the instances first.');
    assert.equal((await cloud.request({ method: 'DELETE', url: `${URL}/abc`, as: 'admin' })).body.badRequest.message, 'Invalid input received: id must be an integer');
    assert.equal((await cloud.request({ method: 'DELETE', url: `${URL}/abc`, as: 'admin', version: '2.53' })).body.badRequest.message, 'Invalid uuid abc');
    const gone = await cloud.request({ method: 'DELETE', url: `${URL}/999`, as: 'admin' });
    assert.equal(gone.status, 404);
    assert.equal(gone.body.itemNotFound.message, 'Service 999 not found.');
    const sched = (await list('2.53', '?binary=nova-scheduler')).body.services[0].id as string;
    const del = await cloud.request({ method: 'DELETE', url: `${URL}/${sched}`, as: 'admin', version: '2.53' });
    assert.equal(del.status, 204);
    assert.equal(del.text, '');
    assert.equal((await list('2.1', '?binary=nova-scheduler')).body.services.length, 0);
    await cloud.request({ method: 'DELETE', url: `/compute/v2.1/servers/${id}`, as: 'demo' });
    await cloud.settle();
  });
});

describe('os-services: a deleted compute service', () => {
  let cloud: TestCloud;
  before(async () => {
    cloud = await startTestCloud();
  });
  after(async () => {
    await cloud.close();
  });

  it('takes the host out of scheduling and its hypervisor out of the list', async () => {
    const svc = (await cloud.request({ url: `${URL}?host=compute1`, as: 'admin' })).body.services[0];
    assert.equal((await cloud.request({ method: 'DELETE', url: `${URL}/${String(svc.id)}`, as: 'admin' })).status, 204);
    const id = await boot(cloud);
    const s = (await cloud.request({ url: `/compute/v2.1/servers/${id}`, as: 'admin' })).body.server;
    assert.equal(s['OS-EXT-SRV-ATTR:host'], 'compute2');
    const hv = (await cloud.request({ url: '/compute/v2.1/os-hypervisors', as: 'admin' })).body.hypervisors as { hypervisor_hostname: string }[];
    assert.deepEqual(hv.map((h) => h.hypervisor_hostname), ['compute2']);
  });
});
