import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestCloud, type TestCloud } from '../helpers/cloud.js';
import { initResources } from '../../src/compute/resources/seed.js';

const V = '/compute/v2.1';
const SEEDED = ['1', '2', '3', '4', '42', '5', '84', 'c1', 'd1', 'd2', 'd3', 'd4'];

describe('flavors', () => {
  let cloud: TestCloud;
  let demoProject: string;
  let altProject: string;

  const admin = (o: Parameters<TestCloud['request']>[0]) => cloud.request({ as: 'admin', ...o });
  const createFlavor = async (flavor: Record<string, unknown>, version?: string) => {
    const res = await admin({ method: 'POST', url: `${V}/flavors`, body: { flavor }, ...(version ? { version } : {}) });
    assert.equal(res.status, 200, res.text);
    return res.body.flavor as Record<string, unknown>;
  };
  const badRequest = (res: { status: number; body: { badRequest?: { message: string } }; text: string }, message?: string | RegExp) => {
    assert.equal(res.status, 400, res.text);
    if (typeof message === 'string') assert.equal(res.body.badRequest?.message, message);
    else if (message) assert.match(res.body.badRequest?.message ?? '', message);
  };

  before(async () => {
    cloud = await startTestCloud();
    await initResources(cloud);
    const account = (n: string) => cloud.identity.accounts.find((a) => a.username === n);
    demoProject = account('demo')?.projectId ?? 'demo';
    altProject = account('alt_demo')?.projectId ?? 'alt_demo';
  });
  after(async () => {
    await cloud.close();
  });

  describe('seeded DevStack flavors', () => {
    it('lists the twelve flavors sorted by flavorid, with links', async () => {
      const res = await cloud.request({ url: `${V}/flavors` });
      assert.equal(res.status, 200);
      assert.deepEqual(res.body.flavors.map((f: { id: string }) => f.id), SEEDED);
      const tiny = res.body.flavors[0];
      assert.deepEqual(Object.keys(tiny).sort(), ['id', 'links', 'name']);
      assert.equal(tiny.name, 'm1.tiny');
      assert.deepEqual(tiny.links.map((l: { rel: string }) => l.rel), ['self', 'bookmark']);
      assert.match(tiny.links[0].href, /\/compute\/v2\.1\/flavors\/1$/);
      assert.match(tiny.links[1].href, /\/compute\/flavors\/1$/);
      assert.equal(res.body.flavors_links, undefined);
    });

    it('seeding again changes nothing', async () => {
      await initResources(cloud);
      const res = await cloud.request({ url: `${V}/flavors` });
      assert.equal(res.body.flavors.length, 12);
    });

    it('shows DevStack sizes', async () => {
      const res = await cloud.request({ url: `${V}/flavors/detail` });
      const byId = new Map<string, Record<string, unknown>>(res.body.flavors.map((f: { id: string }) => [f.id, f]));
      const size = (id: string) => {
        const f = byId.get(id);
        return [f?.name, f?.ram, f?.disk, f?.vcpus];
      };
      assert.deepEqual(size('1'), ['m1.tiny', 512, 1, 1]);
      assert.deepEqual(size('5'), ['m1.xlarge', 16384, 160, 8]);
      assert.deepEqual(size('42'), ['m1.nano', 128, 1, 1]);
      assert.deepEqual(size('84'), ['m1.micro', 192, 1, 1]);
      assert.deepEqual(size('c1'), ['cirros256', 256, 1, 1]);
      assert.deepEqual(size('d3'), ['ds2G', 2048, 10, 2]);
      assert.deepEqual(size('d4'), ['ds4G', 4096, 20, 4]);
    });
  });

  describe('representation per microversion', () => {
    it('2.1 detail: swap "" and the legacy extension fields', async () => {
      const res = await cloud.request({ url: `${V}/flavors/1` });
      assert.equal(res.status, 200);
      assert.deepEqual(res.body.flavor, {
        id: '1',
        name: 'm1.tiny',
        ram: 512,
        disk: 1,
        swap: '',
        'OS-FLV-EXT-DATA:ephemeral': 0,
        'OS-FLV-DISABLED:disabled': false,
        vcpus: 1,
        'os-flavor-access:is_public': true,
        rxtx_factor: 1,
        links: res.body.flavor.links,
      });
    });

    it('2.55 adds description to index and detail', async () => {
      const before = await cloud.request({ url: `${V}/flavors`, version: '2.54' });
      assert.equal('description' in before.body.flavors[0], false);
      const idx = await cloud.request({ url: `${V}/flavors`, version: '2.55' });
      assert.equal(idx.body.flavors[0].description, null);
      const show = await cloud.request({ url: `${V}/flavors/1`, version: '2.55' });
      assert.equal(show.body.flavor.description, null);
    });

    it('2.61 adds extra_specs for readers', async () => {
      const r60 = await cloud.request({ url: `${V}/flavors/1`, version: '2.60' });
      assert.equal('extra_specs' in r60.body.flavor, false);
      const r61 = await cloud.request({ url: `${V}/flavors/1`, version: '2.61' });
      assert.deepEqual(r61.body.flavor.extra_specs, {});
      const det = await cloud.request({ url: `${V}/flavors/detail`, version: '2.61' });
      assert.deepEqual(det.body.flavors[0].extra_specs, {});
    });

    it('2.75 shows swap 0 instead of ""', async () => {
      const r74 = await cloud.request({ url: `${V}/flavors/1`, version: '2.74' });
      assert.equal(r74.body.flavor.swap, '');
      const r75 = await cloud.request({ url: `${V}/flavors/1`, version: '2.75' });
      assert.equal(r75.body.flavor.swap, 0);
    });

    it('2.102 drops rxtx_factor and OS-FLV-DISABLED:disabled', async () => {
      const r101 = await cloud.request({ url: `${V}/flavors/1`, version: '2.101' });
      assert.equal(r101.body.flavor.rxtx_factor, 1);
      const r102 = await cloud.request({ url: `${V}/flavors/1`, version: '2.102' });
      assert.equal('rxtx_factor' in r102.body.flavor, false);
      assert.equal('OS-FLV-DISABLED:disabled' in r102.body.flavor, false);
    });

    it('unknown flavor is a 404', async () => {
      const res = await cloud.request({ url: `${V}/flavors/nope` });
      assert.equal(res.status, 404);
      assert.equal(res.body.itemNotFound.message, 'Flavor nope could not be found.');
    });
  });

  describe('filters, sorting and paging', () => {
    it('minRam and minDisk', async () => {
      const res = await cloud.request({ url: `${V}/flavors/detail?minRam=4096&minDisk=40` });
      assert.deepEqual(res.body.flavors.map((f: { id: string }) => f.id), ['3', '4', '5']);
      badRequest(await cloud.request({ url: `${V}/flavors?minRam=abc` }), 'Invalid minRam filter [abc]');
      badRequest(await cloud.request({ url: `${V}/flavors?minDisk=1.5` }), 'Invalid minDisk filter [1.5]');
    });

    it('sort_key and sort_dir', async () => {
      const res = await cloud.request({ url: `${V}/flavors/detail?sort_key=memory_mb&sort_dir=desc` });
      const rams = res.body.flavors.map((f: { ram: number }) => f.ram);
      assert.deepEqual(rams, [...rams].sort((a: number, b: number) => b - a));
      assert.equal(res.body.flavors[0].id, '5');
      badRequest(await cloud.request({ url: `${V}/flavors?sort_key=bogus` }));
      badRequest(await cloud.request({ url: `${V}/flavors?sort_dir=up` }));
      // rxtx_factor is no sort key from 2.102
      assert.equal((await cloud.request({ url: `${V}/flavors?sort_key=rxtx_factor`, version: '2.101' })).status, 200);
      badRequest(await cloud.request({ url: `${V}/flavors?sort_key=rxtx_factor`, version: '2.102' }));
    });

    it('limit and marker page with a next link', async () => {
      const p1 = await cloud.request({ url: `${V}/flavors?limit=5` });
      assert.deepEqual(p1.body.flavors.map((f: { id: string }) => f.id), SEEDED.slice(0, 5));
      const next = p1.body.flavors_links[0];
      assert.equal(next.rel, 'next');
      const url = new URL(next.href);
      assert.equal(url.pathname, '/compute/v2.1/flavors');
      assert.equal(url.searchParams.get('limit'), '5');
      assert.equal(url.searchParams.get('marker'), '42');
      const p2 = await cloud.request({ url: `${url.pathname}${url.search}` });
      assert.deepEqual(p2.body.flavors.map((f: { id: string }) => f.id), SEEDED.slice(5, 10));
      const p3 = await cloud.request({ url: `${V}/flavors/detail?limit=5&marker=d1` });
      assert.deepEqual(p3.body.flavors.map((f: { id: string }) => f.id), ['d2', 'd3', 'd4']);
      assert.equal(p3.body.flavors_links, undefined);
      const detailLink = (await cloud.request({ url: `${V}/flavors/detail?limit=2` })).body.flavors_links[0].href;
      assert.match(detailLink, /\/flavors\/detail\?limit=2&marker=2$/);
    });

    it('a sorted page continues after the marker in sort order', async () => {
      const p1 = await cloud.request({ url: `${V}/flavors/detail?sort_key=memory_mb&limit=3` });
      const ids1 = p1.body.flavors.map((f: { id: string }) => f.id);
      assert.deepEqual(ids1, ['42', '84', 'c1']);
      const p2 = await cloud.request({ url: `${V}/flavors/detail?sort_key=memory_mb&limit=3&marker=c1` });
      assert.deepEqual(p2.body.flavors.map((f: { ram: number }) => f.ram), [512, 512, 1024]);
    });

    it('bad limit and unknown marker are 400', async () => {
      badRequest(await cloud.request({ url: `${V}/flavors?limit=-1` }));
      badRequest(await cloud.request({ url: `${V}/flavors?limit=abc` }));
      badRequest(await cloud.request({ url: `${V}/flavors?marker=nope` }), 'marker [nope] not found');
      const zero = await cloud.request({ url: `${V}/flavors?limit=0` });
      assert.deepEqual(zero.body.flavors, []);
    });

    it('unknown query parameters: ignored below 2.75, 400 from 2.75', async () => {
      assert.equal((await cloud.request({ url: `${V}/flavors?foo=1`, version: '2.74' })).status, 200);
      badRequest(await cloud.request({ url: `${V}/flavors?foo=1`, version: '2.75' }), "Additional properties are not allowed ('foo' was unexpected)");
      assert.equal((await cloud.request({ url: `${V}/flavors/1?foo=1`, version: '2.101' })).status, 200);
      badRequest(await cloud.request({ url: `${V}/flavors/1?foo=1`, version: '2.102' }));
    });

    it('2.102 filters by name (a regex)', async () => {
      const res = await cloud.request({ url: `${V}/flavors?name=^ds`, version: '2.102' });
      assert.deepEqual(res.body.flavors.map((f: { id: string }) => f.id), ['d1', 'd2', 'd3', 'd4']);
      badRequest(await cloud.request({ url: `${V}/flavors?name=ds`, version: '2.101' }));
    });
  });

  describe('flavor manage', () => {
    it('admin creates (200, generated UUID id), demo may not', async () => {
      const f = await createFlavor({ name: 'mgr.one', ram: 256, vcpus: 1, disk: 2 });
      assert.match(String(f.id), /^[0-9a-f-]{36}$/);
      assert.equal(f.ram, 256);
      assert.equal(f['os-flavor-access:is_public'], true);
      assert.equal(f.swap, '');
      const denied = await cloud.request({ method: 'POST', url: `${V}/flavors`, body: { flavor: { name: 'x', ram: 1, vcpus: 1, disk: 0 } } });
      assert.equal(denied.status, 403);
      assert.equal(denied.body.forbidden.message, "Policy doesn't allow os_compute_api:os-flavor-manage:create to be performed.");
    });

    it('takes numeric ids and string numbers', async () => {
      const f = await createFlavor({ name: 'mgr.num', id: 1234, ram: '128', vcpus: '2', disk: '0', swap: 512, 'OS-FLV-EXT-DATA:ephemeral': 1, rxtx_factor: 2.5 });
      assert.equal(f.id, '1234');
      assert.equal(f.ram, 128);
      assert.equal(f.vcpus, 2);
      assert.equal(f.swap, 512);
      assert.equal(f['OS-FLV-EXT-DATA:ephemeral'], 1);
      assert.equal(f.rxtx_factor, 2.5);
    });

    it('409 on a duplicate name or id', async () => {
      await createFlavor({ name: 'mgr.dup', id: 'dup-id', ram: 64, vcpus: 1, disk: 0 });
      const byName = await admin({ method: 'POST', url: `${V}/flavors`, body: { flavor: { name: 'mgr.dup', ram: 64, vcpus: 1, disk: 0 } } });
      assert.equal(byName.status, 409);
      assert.equal(byName.body.conflictingRequest.message, 'Flavor with name mgr.dup already exists.');
      const byId = await admin({ method: 'POST', url: `${V}/flavors`, body: { flavor: { name: 'mgr.other', id: 'dup-id', ram: 64, vcpus: 1, disk: 0 } } });
      assert.equal(byId.status, 409);
      assert.equal(byId.body.conflictingRequest.message, 'Flavor with ID dup-id already exists.');
    });

    it('400 on bad bodies, never 500', async () => {
      const post = (body: unknown, version?: string) => admin({ method: 'POST', url: `${V}/flavors`, body, ...(version ? { version } : {}) });
      const ok = { name: 'mgr.bad', ram: 64, vcpus: 1, disk: 0 };
      badRequest(await post({}), "'flavor' is a required property");
      badRequest(await post({ flavor: { name: 'x', vcpus: 1, disk: 0 } }), "'ram' is a required property");
      badRequest(await post({ flavor: { ...ok, ram: 0 } }), 'Invalid input for field/attribute ram. Value: 0. 0 is less than the minimum of 1');
      badRequest(await post({ flavor: { ...ok, ram: '0' } }), 'Invalid input for field/attribute ram. Value: 0. 0 is less than the minimum of 1');
      badRequest(await post({ flavor: { ...ok, disk: -1 } }));
      badRequest(await post({ flavor: { ...ok, vcpus: 'two' } }));
      badRequest(await post({ flavor: { ...ok, ram: 1.5 } }));
      badRequest(await post({ flavor: { ...ok, ram: 2147483648 } }));
      badRequest(await post({ flavor: { ...ok, ram: '2147483648' } }), /greater than the maximum of 2147483647/);
      badRequest(
        await post({ flavor: { ...ok, name: ' lead' } }),
        "An invalid 'name' value was provided. The name must be: printable characters. Can not start or end with whitespace.",
      );
      badRequest(await post({ flavor: { ...ok, name: '' } }));
      badRequest(await post({ flavor: { ...ok, id: ' x' } }));
      badRequest(await post({ flavor: { ...ok, id: 'a/b' } }));
      badRequest(await post({ flavor: { ...ok, rxtx_factor: 0 } }));
      badRequest(await post({ flavor: { ...ok, rxtx_factor: '0' } }), "Invalid input received: 'rxtx_factor' argument must be a float between 0 and 3.40282e+38");
      badRequest(await post({ flavor: { ...ok, rxtx_factor: 1 } }, '2.102'), "Additional properties are not allowed ('rxtx_factor' was unexpected)");
      badRequest(await post({ flavor: { ...ok, 'os-flavor-access:is_public': 'maybe' } }));
      badRequest(await post({ flavor: { ...ok, description: 'd' } }, '2.54'));
      badRequest(await post({ flavor: { ...ok, extra: 1 } }));
      badRequest(await post([1, 2]));
      badRequest(await post('not json'));
    });

    it('2.55 description on create and PUT', async () => {
      const f = await createFlavor({ name: 'mgr.desc', ram: 64, vcpus: 1, disk: 0, description: 'first' }, '2.55');
      assert.equal(f.description, 'first');
      const put = (version: string, as: 'admin' | 'demo' = 'admin', body: unknown = { flavor: { description: 'second' } }) =>
        cloud.request({ method: 'PUT', url: `${V}/flavors/${String(f.id)}`, body, version, as });
      assert.equal((await put('2.54')).status, 404);
      assert.equal((await put('2.55', 'demo')).status, 403);
      badRequest(await put('2.55', 'admin', { flavor: {} }), "'description' is a required property");
      badRequest(await put('2.55', 'admin', { flavor: { description: 'x', name: 'y' } }));
      const ok = await put('2.61');
      assert.equal(ok.status, 200);
      assert.equal(ok.body.flavor.description, 'second');
      assert.deepEqual(ok.body.flavor.extra_specs, {});
      const cleared = await put('2.55', 'admin', { flavor: { description: null } });
      assert.equal(cleared.body.flavor.description, null);
      const missing = await cloud.request({ method: 'PUT', url: `${V}/flavors/nope`, body: { flavor: { description: 'x' } }, version: '2.55', as: 'admin' });
      assert.equal(missing.status, 404);
    });

    it('delete: 202, then gone; demo may not', async () => {
      const f = await createFlavor({ name: 'mgr.del', ram: 64, vcpus: 1, disk: 0 });
      const url = `${V}/flavors/${String(f.id)}`;
      assert.equal((await cloud.request({ method: 'DELETE', url })).status, 403);
      const del = await admin({ method: 'DELETE', url });
      assert.equal(del.status, 202);
      assert.equal(del.text, '');
      assert.equal((await cloud.request({ url })).status, 404);
      const again = await admin({ method: 'DELETE', url });
      assert.equal(again.status, 404);
      assert.equal(again.body.itemNotFound.message, `Flavor ${String(f.id)} could not be found.`);
      // the name is free again
      await createFlavor({ name: 'mgr.del', ram: 64, vcpus: 1, disk: 0 });
    });
  });

  describe('flavor access', () => {
    let priv: string;
    before(async () => {
      const f = await createFlavor({ name: 'acc.private', id: 'acc-private', ram: 64, vcpus: 1, disk: 0, 'os-flavor-access:is_public': false });
      priv = String(f.id);
    });
    const action = (id: string, body: unknown, as: 'admin' | 'demo' = 'admin', version?: string) =>
      cloud.request({ method: 'POST', url: `${V}/flavors/${id}/action`, body, as, ...(version ? { version } : {}) });

    it('a private flavor is invisible to other projects until shared', async () => {
      assert.equal((await cloud.request({ url: `${V}/flavors/${priv}` })).status, 404);
      const list = await cloud.request({ url: `${V}/flavors` });
      assert.equal(list.body.flavors.some((f: { id: string }) => f.id === priv), false);
      const add = await action(priv, { addTenantAccess: { tenant: demoProject } });
      assert.equal(add.status, 200);
      assert.deepEqual(add.body, { flavor_access: [{ flavor_id: priv, tenant_id: demoProject }] });
      assert.equal((await cloud.request({ url: `${V}/flavors/${priv}` })).status, 200);
      const after = await cloud.request({ url: `${V}/flavors` });
      assert.equal(after.body.flavors.some((f: { id: string }) => f.id === priv), true);
      assert.equal((await cloud.request({ url: `${V}/flavors/${priv}`, as: 'alt_demo' })).status, 404);
    });

    it('lists access (admin only); public flavors have no list', async () => {
      const res = await admin({ url: `${V}/flavors/${priv}/os-flavor-access` });
      assert.equal(res.status, 200);
      assert.deepEqual(res.body.flavor_access, [{ flavor_id: priv, tenant_id: demoProject }]);
      assert.equal((await cloud.request({ url: `${V}/flavors/${priv}/os-flavor-access` })).status, 403);
      const pub = await admin({ url: `${V}/flavors/1/os-flavor-access` });
      assert.equal(pub.status, 404);
      assert.equal(pub.body.itemNotFound.message, 'Access list not available for public flavors.');
      assert.equal((await admin({ url: `${V}/flavors/nope/os-flavor-access` })).status, 404);
    });

    it('conflicts and errors', async () => {
      const dup = await action(priv, { addTenantAccess: { tenant: demoProject } });
      assert.equal(dup.status, 409);
      assert.equal(dup.body.conflictingRequest.message, `Flavor access already exists for flavor ${priv} and project ${demoProject} combination.`);
      const pub = await action('1', { addTenantAccess: { tenant: altProject } }, 'admin', '2.7');
      assert.equal(pub.status, 409);
      assert.equal(pub.body.conflictingRequest.message, 'Can not add access to a public flavor.');
      assert.equal((await action(priv, { addTenantAccess: { tenant: altProject } }, 'demo')).status, 403);
      badRequest(await action(priv, { addTenantAccess: {} }), "'tenant' is a required property");
      badRequest(await action(priv, { bogus: {} }), 'There is no such action: bogus');
      badRequest(await action(priv, { addTenantAccess: { tenant: 'a' }, removeTenantAccess: { tenant: 'a' } }), 'Malformed request body');
      assert.equal((await action('nope', { addTenantAccess: { tenant: altProject } })).status, 404);
    });

    it('below 2.7 a public flavor takes an access entry', async () => {
      const res = await action('2', { addTenantAccess: { tenant: altProject } }, 'admin', '2.6');
      assert.equal(res.status, 200);
      await action('2', { removeTenantAccess: { tenant: altProject } });
    });

    it('removes access; removing twice is a 404', async () => {
      const res = await action(priv, { removeTenantAccess: { tenant: demoProject } });
      assert.equal(res.status, 200);
      assert.deepEqual(res.body, { flavor_access: [] });
      assert.equal((await cloud.request({ url: `${V}/flavors/${priv}` })).status, 404);
      const again = await action(priv, { removeTenantAccess: { tenant: demoProject } });
      assert.equal(again.status, 404);
      assert.equal(again.body.itemNotFound.message, `Flavor access not found for ${priv} / ${demoProject} combination.`);
    });

    it('admin is_public filter: default public, false private, none all', async () => {
      const ids = async (q: string) => (await admin({ url: `${V}/flavors${q}` })).body.flavors.map((f: { id: string }) => f.id) as string[];
      assert.equal((await ids('')).includes(priv), false);
      assert.deepEqual(await ids('?is_public=false'), [priv]);
      const all = await ids('?is_public=None');
      assert.ok(all.includes(priv) && all.includes('1'));
      badRequest(await admin({ url: `${V}/flavors?is_public=maybe` }), 'Invalid is_public filter [maybe]');
      // non-admins cannot widen the list
      const demo = await cloud.request({ url: `${V}/flavors?is_public=none` });
      assert.equal(demo.body.flavors.some((f: { id: string }) => f.id === priv), false);
    });
  });

  describe('extra specs', () => {
    const specs = (id: string) => `${V}/flavors/${id}/os-extra_specs`;
    let fid: string;
    before(async () => {
      fid = String((await createFlavor({ name: 'es.flavor', id: 'es-flavor', ram: 64, vcpus: 1, disk: 0 })).id);
    });

    it('create, list, show, update, delete', async () => {
      const created = await admin({ method: 'POST', url: specs(fid), body: { extra_specs: { 'hw:cpu_policy': 'dedicated', key1: 'v1', num: 2 } } });
      assert.equal(created.status, 200);
      assert.deepEqual(created.body, { extra_specs: { 'hw:cpu_policy': 'dedicated', key1: 'v1', num: 2 } });
      const list = await cloud.request({ url: specs(fid) });
      assert.equal(list.status, 200);
      assert.deepEqual(list.body, { extra_specs: { 'hw:cpu_policy': 'dedicated', key1: 'v1', num: '2' } });
      const show = await cloud.request({ url: `${specs(fid)}/key1` });
      assert.deepEqual(show.body, { key1: 'v1' });
      const put = await admin({ method: 'PUT', url: `${specs(fid)}/key1`, body: { key1: 'v2' } });
      assert.equal(put.status, 200);
      assert.deepEqual(put.body, { key1: 'v2' });
      const flavor = await cloud.request({ url: `${V}/flavors/${fid}`, version: '2.61' });
      assert.deepEqual(flavor.body.flavor.extra_specs, { 'hw:cpu_policy': 'dedicated', key1: 'v2', num: '2' });
      const del = await admin({ method: 'DELETE', url: `${specs(fid)}/key1` });
      assert.equal(del.status, 200);
      const gone = await cloud.request({ url: `${specs(fid)}/key1` });
      assert.equal(gone.status, 404);
      assert.equal(gone.body.itemNotFound.message, `Flavor ${fid} has no extra specs with key key1.`);
      assert.equal((await admin({ method: 'DELETE', url: `${specs(fid)}/key1` })).status, 404);
    });

    it('writes are admin only; reads need a visible flavor', async () => {
      assert.equal((await cloud.request({ method: 'POST', url: specs(fid), body: { extra_specs: { a: 'b' } } })).status, 403);
      assert.equal((await cloud.request({ method: 'PUT', url: `${specs(fid)}/a`, body: { a: 'b' } })).status, 403);
      assert.equal((await cloud.request({ method: 'DELETE', url: `${specs(fid)}/a` })).status, 403);
      assert.equal((await cloud.request({ url: specs('nope') })).status, 404);
      assert.equal((await admin({ method: 'POST', url: specs('nope'), body: { extra_specs: { a: 'b' } } })).status, 404);
    });

    it('400 on bad bodies', async () => {
      badRequest(await admin({ method: 'POST', url: specs(fid), body: {} }), "'extra_specs' is a required property");
      badRequest(await admin({ method: 'POST', url: specs(fid), body: { extra_specs: { 'bad/key': 'v' } } }));
      badRequest(await admin({ method: 'POST', url: specs(fid), body: { extra_specs: { k: 'x'.repeat(256) } } }));
      badRequest(await admin({ method: 'POST', url: specs(fid), body: { extra_specs: { k: true } } }));
      badRequest(await admin({ method: 'PUT', url: `${specs(fid)}/a`, body: { b: 'c' } }), 'Request body and URI mismatch');
      badRequest(await admin({ method: 'PUT', url: `${specs(fid)}/a`, body: { a: 'b', c: 'd' } }));
      badRequest(await admin({ method: 'PUT', url: `${specs(fid)}/a`, body: {} }));
    });

    it('2.86 validates known extra specs', async () => {
      const body = { extra_specs: { 'hw:cpu_policy': 'bogus' } };
      assert.equal((await admin({ method: 'POST', url: specs(fid), body, version: '2.85' })).status, 200);
      badRequest(
        await admin({ method: 'POST', url: specs(fid), body, version: '2.86' }),
        "Validation failed; 'bogus' is not one of: dedicated, shared, mixed.",
      );
      badRequest(await admin({ method: 'PUT', url: `${specs(fid)}/hw:numa_nodes`, body: { 'hw:numa_nodes': 'x' }, version: '2.86' }));
      assert.equal((await admin({ method: 'PUT', url: `${specs(fid)}/hw:numa_nodes`, body: { 'hw:numa_nodes': 2 }, version: '2.86' })).status, 200);
      assert.equal((await admin({ method: 'POST', url: specs(fid), body: { extra_specs: { mykey: 'anything' } }, version: '2.86' })).status, 200);
    });
  });
});
