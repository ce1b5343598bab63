import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestCloud, type TestCloud } from '../helpers/cloud.js';
import { boot, cirrosId } from '../helpers/servers.js';

describe('servers: create, show, update, delete', () => {
  let cloud: TestCloud;
  let image: string;
  before(async () => {
    cloud = await startTestCloud();
    image = await cirrosId(cloud);
  });
  after(async () => {
    await cloud.close();
  });

  it('creates a server: 202, Location, adminPass, then BUILD -> ACTIVE with an address', async () => {
    const res = await cloud.request({
      method: 'POST',
      url: '/compute/v2.1/servers',
      body: { server: { name: 'web1', flavorRef: '1', imageRef: image, metadata: { role: 'web' } } },
    });
    assert.equal(res.status, 202, res.text);
    const s = res.body.server;
    assert.match(s.id, /^[0-9a-f-]{36}$/);
    assert.equal(typeof s.adminPass, 'string');
    assert.equal(s.adminPass.length, 12);
    assert.deepEqual(s.security_groups, [{ name: 'default' }]);
    assert.equal(s['OS-DCF:diskConfig'], 'MANUAL');
    assert.equal(res.headers.location, s.links[0].href);
    assert.match(String(res.headers.location), /\/compute\/v2\.1\/servers\//);
    const building = await cloud.request({ url: `/compute/v2.1/servers/${s.id}` });
    assert.equal(building.body.server.status, 'BUILD');
    assert.deepEqual(building.body.server.addresses, {});
    await cloud.bus.drain();
    const shown = await cloud.request({ url: `/compute/v2.1/servers/${s.id}` });
    const srv = shown.body.server;
    assert.equal(srv.status, 'ACTIVE');
    assert.equal(srv['OS-EXT-STS:vm_state'], 'active');
    assert.equal(srv['OS-EXT-STS:task_state'], null);
    assert.equal(srv['OS-EXT-STS:power_state'], 1);
    assert.equal(srv.progress, 0);
    assert.deepEqual(srv.metadata, { role: 'web' });
    assert.equal(srv.hostId.length, 56);
    assert.match(srv['OS-SRV-USG:launched_at'], /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/);
    assert.match(srv.created, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const [net] = Object.keys(srv.addresses);
    assert.equal(net, 'private');
    const v4 = srv.addresses.private.find((a: { version: number }) => a.version === 4);
    assert.equal(v4['OS-EXT-IPS:type'], 'fixed');
    assert.match(v4['OS-EXT-IPS-MAC:mac_addr'], /^fa:16:3e(:[0-9a-f]{2}){3}$/);
    assert.equal(srv.flavor.id, '1');
    assert.equal(srv.image.id, image);
    assert.equal('OS-EXT-SRV-ATTR:host' in srv, false, 'extended attributes are admin-only');
    assert.equal('locked' in srv, false, 'locked arrives in 2.9');
  });

  it('shows the fields of each microversion', async () => {
    const id = await boot(cloud, { version: '2.90', extra: { networks: 'auto', description: 'd', tags: ['a', 'b'], hostname: 'h1' } });
    const at = async (v: string, as: 'demo' | 'admin' = 'demo') =>
      (await cloud.request({ url: `/compute/v2.1/servers/${id}`, version: v, as })).body.server;
    const s9 = await at('2.9');
    assert.equal(s9.locked, false);
    assert.equal('description' in s9, false);
    const s19 = await at('2.19');
    assert.equal(s19.description, 'd');
    assert.equal('tags' in s19, false);
    assert.deepEqual((await at('2.26')).tags, ['a', 'b']);
    const s47 = await at('2.47');
    assert.deepEqual(Object.keys(s47.flavor).sort(), ['disk', 'ephemeral', 'extra_specs', 'original_name', 'ram', 'swap', 'vcpus']);
    assert.equal(s47.flavor.original_name, 'm1.tiny');
    assert.deepEqual((await at('2.71')).server_groups, []);
    assert.equal((await at('2.73')).locked_reason, null);
    assert.equal((await at('2.90'))['OS-EXT-SRV-ATTR:hostname'], 'h1');
    assert.equal((await at('2.96')).pinned_availability_zone, null);
    assert.deepEqual((await at('2.100')).scheduler_hints, {});
    const admin = await at('2.16', 'admin');
    assert.equal(admin.host_status, 'UP');
    assert.equal(typeof admin['OS-EXT-SRV-ATTR:host'], 'string');
    assert.match(admin['OS-EXT-SRV-ATTR:instance_name'], /^instance-[0-9a-f]{8}$/);
    assert.equal(admin['OS-EXT-SRV-ATTR:reservation_id'].startsWith('r-'), true);
    assert.equal('host_status' in (await at('2.16')), false);
  });

  it('updates name, description and access IPs and returns the server', async () => {
    const id = await boot(cloud);
    const res = await cloud.request({
      method: 'PUT',
      url: `/compute/v2.1/servers/${id}`,
      version: '2.19',
      body: { server: { name: 'renamed', description: 'x', accessIPv4: '192.0.2.1' } },
    });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.server.name, 'renamed');
    assert.equal(res.body.server.description, 'x');
    assert.equal(res.body.server.accessIPv4, '192.0.2.1');
    assert.equal('OS-EXT-STS:vm_state' in res.body.server, false, 'below 2.75 PUT answers the basic view');
    const full = await cloud.request({ method: 'PUT', url: `/compute/v2.1/servers/${id}`, version: '2.75', body: { server: { name: 'again' } } });
    assert.equal(full.body.server['OS-EXT-STS:vm_state'], 'active');
    const bad = await cloud.request({ method: 'PUT', url: `/compute/v2.1/servers/${id}`, version: '2.1', body: { server: { description: 'x' } } });
    assert.equal(bad.status, 400);
    assert.match(bad.body.badRequest.message, /Additional properties are not allowed \('description' was unexpected\)/);
  });

  it('deletes with 204, and the server goes away', async () => {
    const id = await boot(cloud);
    const res = await cloud.request({ method: 'DELETE', url: `/compute/v2.1/servers/${id}` });
    assert.equal(res.status, 204);
    await cloud.bus.drain();
    const gone = await cloud.request({ url: `/compute/v2.1/servers/${id}` });
    assert.equal(gone.status, 404);
    assert.deepEqual(gone.body, { itemNotFound: { code: 404, message: `Instance ${id} could not be found.` } });
  });

  it('deletes a server that is still building', async () => {
    const id = await boot(cloud, { wait: false });
    const res = await cloud.request({ method: 'DELETE', url: `/compute/v2.1/servers/${id}` });
    assert.equal(res.status, 204);
    await cloud.bus.drain();
    assert.equal((await cloud.request({ url: `/compute/v2.1/servers/${id}` })).status, 404);
    const ports = await cloud.db.selectFrom('ports').select('id').where('instance_uuid', '=', id).execute();
    assert.deepEqual(ports, []);
  });

  it('hides another project\'s server behind a 404', async () => {
    const id = await boot(cloud);
    for (const [method, url] of [['GET', ''], ['PUT', ''], ['DELETE', ''], ['GET', '/metadata'], ['GET', '/ips']] as const) {
      const res = await cloud.request({ method, url: `/compute/v2.1/servers/${id}${url}`, as: 'alt_demo', ...(method === 'PUT' ? { body: { server: { name: 'x' } } } : {}) });
      assert.equal(res.status, 404, `${method} ${url}`);
    }
    const adminSees = await cloud.request({ url: `/compute/v2.1/servers/${id}`, as: 'admin' });
    assert.equal(adminSees.status, 200);
  });

  it('answers bad create bodies with 400, never 500', async () => {
    const cases: [unknown, RegExp][] = [
      ['not json{', /Malformed request body/],
      [{}, /'server' is a required property/],
      [{ server: { flavorRef: '1', imageRef: image } }, /'name' is a required property/],
      [{ server: { name: 'x', imageRef: image } }, /'flavorRef' is a required property/],
      [{ server: { name: 'x', flavorRef: '1', imageRef: image, bogus: 1 } }, /Additional properties are not allowed/],
      [{ server: { name: 'x', flavorRef: 'nope', imageRef: image } }, /Flavor nope could not be found/],
      [{ server: { name: 'x', flavorRef: '1', imageRef: '00000000-0000-0000-0000-000000000000' } }, /Image 00000000-0000-0000-0000-000000000000 could not be found/],
      [{ server: { name: 'x', flavorRef: '1', imageRef: 'not-a-uuid' } }, /imageRef/],
      [{ server: { name: 'x', flavorRef: '1', imageRef: image, key_name: 'missing' } }, /Invalid key_name provided/],
      [{ server: { name: 'x', flavorRef: '1', imageRef: image, user_data: '***' } }, /is not a 'base64'/],
      [{ server: { name: 'x', flavorRef: '1', imageRef: image, availability_zone: 'nowhere' } }, /availability zone is not available/],
      [{ server: { name: 'x', flavorRef: '1', imageRef: image, networks: [{ uuid: 'abc' }] } }, /network uuid is not in proper format/],
      [{ server: { name: 'x', flavorRef: '1', imageRef: image, min_count: 3, max_count: 2 } }, /min_count must be <= max_count/],
      [{ server: { name: 'x', flavorRef: '1', imageRef: image, security_groups: [{ name: 'nope' }] } }, /Security group nope not found/],
      [{ server: { name: ' x', flavorRef: '1', imageRef: image } }, /name/],
      [{ server: { name: 'x', flavorRef: '1', imageRef: image, accessIPv4: '999.1.1.1' } }, /accessIPv4/],
    ];
    for (const [body, msg] of cases) {
      const res = await cloud.request({ method: 'POST', url: '/compute/v2.1/servers', body });
      assert.equal(res.status, 400, `${JSON.stringify(body)} -> ${res.status} ${res.text}`);
      assert.match(res.body.badRequest.message, msg);
      assert.equal(res.body.badRequest.code, 400);
    }
  });

  it('requires networks from 2.37 and accepts auto/none', async () => {
    const base = { name: 'n', flavorRef: '1', imageRef: image };
    const missing = await cloud.request({ method: 'POST', url: '/compute/v2.1/servers', version: '2.37', body: { server: base } });
    assert.equal(missing.status, 400);
    const none = await cloud.request({ method: 'POST', url: '/compute/v2.1/servers', version: '2.37', body: { server: { ...base, networks: 'none' } } });
    assert.equal(none.status, 202);
    await cloud.bus.drain();
    const shown = await cloud.request({ url: `/compute/v2.1/servers/${none.body.server.id}` });
    assert.deepEqual(shown.body.server.addresses, {});
    assert.equal(shown.body.server.status, 'ACTIVE');
  });

  it('enforces the instances quota with Nova\'s 403', async () => {
    const small = await startTestCloud({ quotas: { instances: 2 } });
    try {
      const img = await cirrosId(small);
      const body = { server: { name: 'q', flavorRef: '1', imageRef: img, min_count: 2 } };
      assert.equal((await small.request({ method: 'POST', url: '/compute/v2.1/servers', body })).status, 202);
      const over = await small.request({ method: 'POST', url: '/compute/v2.1/servers', body: { server: { name: 'q', flavorRef: '1', imageRef: img } } });
      assert.equal(over.status, 403);
      assert.equal(over.body.forbidden.message, 'Quota exceeded for instances: Requested 1, but already used 2 of 2 instances');
    } finally {
      await small.close();
    }
  });

  it('creates several servers with min/max_count and a reservation id', async () => {
    const res = await cloud.request({
      method: 'POST',
      url: '/compute/v2.1/servers',
      body: { server: { name: 'multi', flavorRef: '1', imageRef: image, min_count: 3, return_reservation_id: true } },
    });
    assert.equal(res.status, 202);
    assert.match(res.body.reservation_id, /^r-[a-z0-9]{8}$/);
    await cloud.bus.drain();
    const list = await cloud.request({ url: `/compute/v2.1/servers?reservation_id=${res.body.reservation_id}` });
    assert.deepEqual(list.body.servers.map((s: { name: string }) => s.name).sort(), ['multi-1', 'multi-2', 'multi-3']);
  });

  it('puts a server that fits nowhere into ERROR with No valid host', async () => {
    const res = await cloud.request({
      method: 'POST',
      url: '/compute/v2.1/flavors',
      as: 'admin',
      body: { flavor: { name: 'huge', ram: 10_000_000, vcpus: 1, disk: 1, id: 'huge' } },
    });
    assert.equal(res.status, 200, res.text);
    const adminProject = cloud.identity.accounts.find((a) => a.username === 'admin')?.projectId ?? 'admin';
    const quota = await cloud.request({
      method: 'PUT',
      url: `/compute/v2.1/os-quota-sets/${adminProject}`,
      as: 'admin',
      body: { quota_set: { ram: -1, cores: -1 } },
    });
    assert.equal(quota.status, 200, quota.text);
    const id = await boot(cloud, { flavorRef: 'huge', as: 'admin' });
    const shown = await cloud.request({ url: `/compute/v2.1/servers/${id}`, as: 'admin' });
    assert.equal(shown.body.server.status, 'ERROR');
    assert.equal(shown.body.server.fault.code, 500);
    assert.match(shown.body.server.fault.message, /^No valid host was found/);
  });

  it('records a driver failure as ERROR with a fault and frees the host', async () => {
    for (const d of cloud.compute.drivers.values()) d.failNext('spawn', { message: 'disk on fire' });
    const id = await boot(cloud);
    const srv = (await cloud.request({ url: `/compute/v2.1/servers/${id}` })).body.server;
    assert.equal(srv.status, 'ERROR');
    assert.equal(srv.fault.message, `Exceeded maximum number of retries. Exhausted all hosts available for retrying build failures for instance ${id}.`);
    assert.equal('details' in srv.fault, false, 'details of a 500 fault are for admins');
    const asAdmin = (await cloud.request({ url: `/compute/v2.1/servers/${id}`, as: 'admin' })).body.server;
    assert.equal(typeof asAdmin.fault.details, 'string');
    assert.equal(asAdmin['OS-EXT-SRV-ATTR:host'], null);
    for (const d of cloud.compute.drivers.values()) d.clearFailures();
  });
});

describe('servers: build rescheduling', () => {
  let cloud: TestCloud;
  before(async () => {
    cloud = await startTestCloud();
  });
  after(async () => {
    await cloud.close();
  });

  it('reschedules a build that failed on its host to an alternate', async () => {
    const first = await boot(cloud, { wait: false });
    await cloud.settle();
    const busy = (await cloud.request({ url: `/compute/v2.1/servers/${first}`, as: 'admin' })).body.server['OS-EXT-SRV-ATTR:host'] as string;
    // The next build goes to the emptier host (spread); make it fail there.
    const next = [...cloud.compute.drivers.keys()].find((h) => h !== busy) ?? '';
    cloud.compute.drivers.get(next)?.failNext('spawn', { message: 'disk on fire' });
    const id = await boot(cloud);
    const srv = (await cloud.request({ url: `/compute/v2.1/servers/${id}`, as: 'admin' })).body.server;
    assert.equal(srv.status, 'ACTIVE');
    assert.equal(srv['OS-EXT-SRV-ATTR:host'], busy);
    assert.equal('fault' in srv, false);
    assert.equal(cloud.compute.drivers.get(next)?.pendingFailures().length, 0, 'the failure was hit');
  });
});

describe('servers: builds without retries (max_attempts 1)', () => {
  let cloud: TestCloud;
  before(async () => {
    cloud = await startTestCloud({ compute: { max_attempts: 1 } });
  });
  after(async () => {
    await cloud.close();
  });

  it('puts a build that failed on its host in ERROR with the reason as the fault', async () => {
    for (const d of cloud.compute.drivers.values()) d.failNext('spawn', { message: 'disk on fire' });
    const id = await boot(cloud);
    const srv = (await cloud.request({ url: `/compute/v2.1/servers/${id}`, as: 'admin' })).body.server;
    assert.equal(srv.status, 'ERROR');
    assert.equal(srv.fault.message, 'disk on fire');
    assert.equal(srv['OS-EXT-SRV-ATTR:host'], null);
  });
});
