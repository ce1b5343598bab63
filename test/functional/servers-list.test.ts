import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestCloud, type TestCloud } from '../helpers/cloud.js';
import { boot } from '../helpers/servers.js';

describe('servers: list and detail', () => {
  let cloud: TestCloud;
  const ids: string[] = [];
  before(async () => {
    cloud = await startTestCloud();
    for (let i = 0; i < 5; i++) {
      ids.push(await boot(cloud, { name: `web${i}`, version: '2.52', extra: { networks: 'auto', tags: i % 2 === 0 ? ['even', 'x'] : ['odd'] } }));
    }
    ids.push(await boot(cloud, { name: 'db1', flavorRef: '2' }));
    await boot(cloud, { name: 'other', as: 'alt_demo' });
  });
  after(async () => {
    await cloud.close();
  });

  const names = (res: { body: { servers: { name: string }[] } }) => res.body.servers.map((s) => s.name).sort();

  it('lists the caller\'s servers only, newest first, with id, name and links', async () => {
    const res = await cloud.request({ url: '/compute/v2.1/servers' });
    assert.equal(res.status, 200);
    assert.equal(res.body.servers.length, 6);
    assert.deepEqual(Object.keys(res.body.servers[0]).sort(), ['id', 'links', 'name']);
    assert.equal(res.body.servers[0].name, 'db1');
    assert.equal('servers_links' in res.body, false);
  });

  it('details carry the full body', async () => {
    const res = await cloud.request({ url: '/compute/v2.1/servers/detail' });
    assert.equal(res.body.servers.length, 6);
    assert.equal(res.body.servers[0].status, 'ACTIVE');
    assert.ok('addresses' in res.body.servers[0]);
  });

  it('filters by name regex, status, flavor, image and ip', async () => {
    assert.deepEqual(names(await cloud.request({ url: '/compute/v2.1/servers?name=^web[12]$' })), ['web1', 'web2']);
    assert.deepEqual(names(await cloud.request({ url: '/compute/v2.1/servers?flavor=2' })), ['db1']);
    assert.equal((await cloud.request({ url: '/compute/v2.1/servers?status=ACTIVE' })).body.servers.length, 6);
    assert.equal((await cloud.request({ url: '/compute/v2.1/servers?status=SHUTOFF' })).body.servers.length, 0);
    const detail = await cloud.request({ url: '/compute/v2.1/servers/detail?name=db1' });
    const ip = detail.body.servers[0].addresses.private[0].addr as string;
    assert.deepEqual(names(await cloud.request({ url: `/compute/v2.1/servers?ip=^${ip.replace(/\./g, '\\.')}$` })), ['db1']);
  });

  it('rejects an invalid status from 2.38 and returns nothing below', async () => {
    const below = await cloud.request({ url: '/compute/v2.1/servers?status=BOGUS', version: '2.37' });
    assert.equal(below.status, 200);
    assert.deepEqual(below.body.servers, []);
    const from = await cloud.request({ url: '/compute/v2.1/servers?status=BOGUS', version: '2.38' });
    assert.equal(from.status, 400);
    assert.equal(from.body.badRequest.message, 'Invalid status value');
  });

  it('filters by tags from 2.26', async () => {
    assert.deepEqual(names(await cloud.request({ url: '/compute/v2.1/servers?tags=even,x', version: '2.26' })), ['web0', 'web2', 'web4']);
    assert.deepEqual(names(await cloud.request({ url: '/compute/v2.1/servers?tags-any=odd', version: '2.26' })), ['web1', 'web3']);
    assert.deepEqual(names(await cloud.request({ url: '/compute/v2.1/servers?not-tags=even', version: '2.26' })), ['db1', 'web1', 'web3']);
    assert.deepEqual(names(await cloud.request({ url: '/compute/v2.1/servers?not-tags-any=even,odd', version: '2.26' })), ['db1']);
  });

  it('pages with limit and marker and a next link', async () => {
    const first = await cloud.request({ url: '/compute/v2.1/servers?limit=4' });
    assert.equal(first.body.servers.length, 4);
    const next = first.body.servers_links[0];
    assert.equal(next.rel, 'next');
    const url = new URL(next.href);
    assert.equal(url.searchParams.get('marker'), first.body.servers[3].id);
    const second = await cloud.request({ url: `/compute/v2.1/servers?${url.searchParams.toString()}` });
    assert.equal(second.body.servers.length, 2);
    const all = [...first.body.servers, ...second.body.servers].map((s: { id: string }) => s.id);
    assert.equal(new Set(all).size, 6);
    const bad = await cloud.request({ url: '/compute/v2.1/servers?marker=nope' });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.badRequest.message, 'marker [nope] not found');
    assert.equal((await cloud.request({ url: '/compute/v2.1/servers?limit=abc' })).status, 400);
    assert.equal((await cloud.request({ url: '/compute/v2.1/servers?limit=-1' })).status, 400);
  });

  it('sorts by sort_key/sort_dir', async () => {
    const res = await cloud.request({ url: '/compute/v2.1/servers?sort_key=display_name&sort_dir=asc' });
    assert.deepEqual(res.body.servers.map((s: { name: string }) => s.name), ['db1', 'web0', 'web1', 'web2', 'web3', 'web4']);
    assert.equal((await cloud.request({ url: '/compute/v2.1/servers?sort_key=bogus' })).status, 400);
    const hostSort = await cloud.request({ url: '/compute/v2.1/servers?sort_key=host' });
    assert.equal(hostSort.status, 403);
    assert.equal((await cloud.request({ url: '/compute/v2.1/servers?sort_key=host', as: 'admin' })).status, 200);
  });

  it('rejects unknown query parameters from 2.75 and ignores them before', async () => {
    assert.equal((await cloud.request({ url: '/compute/v2.1/servers?foo=1', version: '2.74' })).status, 200);
    const strict = await cloud.request({ url: '/compute/v2.1/servers?foo=1', version: '2.75' });
    assert.equal(strict.status, 400);
  });

  it('lets admins list all projects; ignores all_tenants-only filters for others', async () => {
    const admin = await cloud.request({ url: '/compute/v2.1/servers?all_tenants=1', as: 'admin' });
    assert.equal(admin.body.servers.length, 7);
    const denied = await cloud.request({ url: '/compute/v2.1/servers?all_tenants=1' });
    assert.equal(denied.status, 403);
    assert.equal(denied.body.forbidden.message, "Policy doesn't allow os_compute_api:servers:index:get_all_tenants to be performed.");
    const userHost = await cloud.request({ url: '/compute/v2.1/servers?host=compute1' });
    assert.equal(userHost.body.servers.length, 6, 'host is an admin-only filter, ignored for members');
  });

  it('shows deleted servers to admins with deleted=true and changes-since', async () => {
    const id = await boot(cloud, { name: 'doomed' });
    const before = new Date(Date.now() - 60_000).toISOString();
    await cloud.request({ method: 'DELETE', url: `/compute/v2.1/servers/${id}` });
    await cloud.bus.drain();
    const deleted = await cloud.request({ url: '/compute/v2.1/servers/detail?deleted=true&all_tenants=1', as: 'admin' });
    assert.ok(deleted.body.servers.some((s: { id: string; status: string }) => s.id === id && s.status === 'DELETED'));
    const since = await cloud.request({ url: `/compute/v2.1/servers/detail?changes-since=${encodeURIComponent(before)}` });
    assert.ok(since.body.servers.some((s: { id: string }) => s.id === id));
    const badSince = await cloud.request({ url: '/compute/v2.1/servers?changes-since=yesterday' });
    assert.equal(badSince.status, 400);
  });
});
