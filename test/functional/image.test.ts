import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestCloud, type TestCloud, type TestResponse } from '../helpers/cloud.js';
import { CIRROS_IMAGE_ID } from '../../src/image/index.js';

type Who = 'admin' | 'demo' | 'alt_demo';
const JSON_ACCEPT = { accept: 'application/json' };
const PATCH_CT = { 'content-type': 'application/openstack-images-v2.1-json-patch' };

const IMAGE_KEYS = [
  'id',
  'name',
  'status',
  'visibility',
  'protected',
  'os_hidden',
  'checksum',
  'os_hash_algo',
  'os_hash_value',
  'owner',
  'size',
  'virtual_size',
  'min_ram',
  'min_disk',
  'disk_format',
  'container_format',
  'created_at',
  'updated_at',
  'tags',
  'self',
  'file',
  'schema',
];

describe('image API (Glance v2)', () => {
  let cloud: TestCloud;
  const projectOf = (who: Who): string => {
    const a = cloud.identity.accounts.find((x) => x.username === who);
    assert.ok(a, `account ${who}`);
    return a.projectId;
  };
  const get = (url: string, as: Who = 'demo') => cloud.request({ url: `/image${url}`, as, headers: JSON_ACCEPT });
  const create = async (body: Record<string, unknown>, as: Who = 'demo'): Promise<Record<string, unknown> & { id: string }> => {
    const res = await cloud.request({ method: 'POST', url: '/image/v2/images', as, body, headers: JSON_ACCEPT });
    assert.equal(res.status, 201, res.text);
    return res.body;
  };
  const patch = (id: string, ops: unknown, as: Who = 'demo', headers: Record<string, string> = PATCH_CT) =>
    cloud.request({ method: 'PATCH', url: `/image/v2/images/${id}`, as, body: ops, headers: { ...JSON_ACCEPT, ...headers } });
  const upload = async (id: string, data: Buffer, as: Who = 'demo', contentType = 'application/octet-stream') => {
    const res = await cloud.app.inject({
      method: 'PUT',
      url: `/image/v2/images/${id}/file`,
      headers: { 'x-auth-token': cloud.tokens[as], 'content-type': contentType, ...JSON_ACCEPT },
      payload: data,
    });
    return { status: res.statusCode, text: res.body };
  };
  const download = (id: string, as: Who = 'demo', headers: Record<string, string> = {}) =>
    cloud.app.inject({ method: 'GET', url: `/image/v2/images/${id}/file`, headers: { 'x-auth-token': cloud.tokens[as], ...headers } });
  const del = (id: string, as: Who = 'demo') => cloud.request({ method: 'DELETE', url: `/image/v2/images/${id}`, as, headers: JSON_ACCEPT });
  const ids = (res: TestResponse): string[] => (res.body.images as { id: string }[]).map((i) => i.id);

  before(async () => {
    cloud = await startTestCloud();
  });
  after(async () => {
    await cloud.close();
  });

  describe('discovery and auth', () => {
    it('serves version discovery at /image/ (300) and /image/versions (200)', async () => {
      const root = await cloud.request({ url: '/image/', as: null, headers: { host: 'cloud.example:8774' } });
      assert.equal(root.status, 300);
      const versions = root.body.versions as { id: string; status: string; links: { rel: string; href: string }[] }[];
      assert.equal(versions[0]?.id, 'v2.16');
      assert.equal(versions[0]?.status, 'CURRENT');
      assert.equal(versions.at(-1)?.id, 'v2.0');
      assert.ok(versions.slice(1).every((v) => v.status === 'SUPPORTED'));
      assert.deepEqual(versions[0]?.links, [{ rel: 'self', href: 'http://cloud.example:8774/image/v2/' }]);
      const v = await cloud.request({ url: '/image/versions', as: null });
      assert.equal(v.status, 200);
      assert.equal(v.body.versions.length, versions.length);
      const bare = await cloud.request({ url: '/image', as: null });
      assert.equal(bare.status, 300);
    });

    it('rejects missing and invalid tokens with 401 the way keystonemiddleware does', async () => {
      for (const as of [null, { token: 'not-a-token' }] as const) {
        const res = await cloud.request({ url: '/image/v2/images', as });
        assert.equal(res.status, 401);
        assert.deepEqual(res.body, { error: { code: 401, title: 'Unauthorized', message: 'The request you have made requires authentication.' } });
        assert.match(String(res.headers['www-authenticate']), /^Keystone uri=".*\/identity"$/);
      }
      const unknown = await cloud.request({ url: '/image/v2/nothing-here', as: null });
      assert.equal(unknown.status, 401);
    });

    it('answers errors in the format the Accept header asks for', async () => {
      const json = await get('/v2/images/does-not-exist');
      assert.equal(json.status, 404);
      assert.equal(json.body.code, '404 Not Found');
      assert.equal(json.body.title, 'Not Found');
      assert.match(json.body.message, /^No image found with ID does-not-exist/);
      const plain = await cloud.request({ url: '/image/v2/images/does-not-exist', headers: { accept: 'text/plain' } });
      assert.equal(plain.text, '404 Not Found\n\nNo image found with ID does-not-exist\n\n   ');
      const html = await cloud.request({ url: '/image/v2/images/does-not-exist' });
      assert.match(String(html.headers['content-type']), /^text\/html/);
      const missing = await get('/v2/nothing-here');
      assert.equal(missing.status, 404);
      const method = await cloud.request({ method: 'PUT', url: '/image/v2/images', body: {}, headers: JSON_ACCEPT });
      assert.equal(method.status, 405);
      assert.equal(method.headers.allow, 'GET, POST');
    });

    it('serves the image, images, member and members schemas', async () => {
      const image = await get('/v2/schemas/image');
      assert.equal(image.status, 200);
      assert.equal(image.body.name, 'image');
      assert.deepEqual(image.body.additionalProperties, { type: 'string' });
      assert.ok(image.body.properties.disk_format.enum.includes('qcow2'));
      for (const n of ['images', 'member', 'members']) {
        const s = await get(`/v2/schemas/${n}`);
        assert.equal(s.status, 200);
        assert.equal(s.body.name, n);
      }
      assert.equal((await get('/v2/schemas/nope')).status, 404);
      assert.equal((await get('/v2/schemas/constructor')).status, 404);
      const info = await get('/v2/info/import');
      assert.deepEqual(info.body['import-methods'].value, ['glance-direct']);
    });
  });

  describe('seeded cirros', () => {
    it('is listed for every project with the full Glance image shape', async () => {
      for (const who of ['demo', 'alt_demo', 'admin'] as const) {
        const res = await get('/v2/images', who);
        assert.equal(res.status, 200);
        assert.equal(res.body.schema, '/v2/schemas/images');
        assert.equal(res.body.first, '/v2/images');
        const cirros = (res.body.images as Record<string, unknown>[]).find((i) => i.name === 'cirros');
        assert.ok(cirros, `${who} sees cirros`);
        for (const k of IMAGE_KEYS) assert.ok(k in cirros, `missing ${k}`);
        assert.equal(cirros.id, CIRROS_IMAGE_ID);
        assert.equal(cirros.status, 'active');
        assert.equal(cirros.visibility, 'public');
        assert.equal(cirros.disk_format, 'qcow2');
        assert.equal(cirros.container_format, 'bare');
        assert.equal(cirros.owner, null);
        assert.equal(cirros.min_disk, 0);
        assert.equal(cirros.min_ram, 0);
        assert.equal(cirros.os_hash_algo, 'sha512');
        assert.equal(cirros.virtual_size, 112 * 1024 * 1024);
        assert.match(String(cirros.created_at), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
        assert.equal(cirros.self, `/v2/images/${CIRROS_IMAGE_ID}`);
        assert.equal(cirros.file, `/v2/images/${CIRROS_IMAGE_ID}/file`);
        assert.equal(cirros.schema, '/v2/schemas/image');
      }
    });

    it('downloads as a qcow2 whose md5 is the checksum', async () => {
      const show = await get(`/v2/images/${CIRROS_IMAGE_ID}`);
      const res = await download(CIRROS_IMAGE_ID);
      assert.equal(res.statusCode, 200);
      assert.equal(res.headers['content-type'], 'application/octet-stream');
      assert.equal(res.rawPayload.subarray(0, 4).toString('latin1'), 'QFI\xfb');
      const md5 = createHash('md5').update(res.rawPayload).digest('hex');
      assert.equal(md5, show.body.checksum);
      assert.equal(res.headers['content-md5'], md5);
      assert.equal(Number(res.headers['content-length']), show.body.size);
    });

    it('is visible to compute through the catalog', async () => {
      const rec = await cloud.images.catalog.get(CIRROS_IMAGE_ID, projectOf('demo'), false);
      assert.equal(rec?.status, 'active');
      assert.equal(rec?.disk_format, 'qcow2');
    });
  });

  describe('create, upload, download', () => {
    it('round-trips data with md5 and sha512 and moves queued -> active', async () => {
      const img = await create({ name: 'roundtrip', disk_format: 'raw', container_format: 'bare', hw_disk_bus: 'scsi', tags: ['x', 'x', 'y'] });
      assert.equal(img.status, 'queued');
      assert.equal(img.visibility, 'shared');
      assert.equal(img.owner, projectOf('demo'));
      assert.equal(img.checksum, null);
      assert.equal(img.size, null);
      assert.equal(img.hw_disk_bus, 'scsi');
      assert.deepEqual(img.tags, ['x', 'y']);
      assert.equal(img.protected, false);

      const queued = await download(img.id);
      assert.equal(queued.statusCode, 204);

      const data = Buffer.alloc(300_000);
      for (let i = 0; i < data.length; i++) data[i] = (i * 7) % 251;
      const up = await upload(img.id, data);
      assert.equal(up.status, 204, up.text);

      const show = await get(`/v2/images/${img.id}`);
      assert.equal(show.body.status, 'active');
      assert.equal(show.body.size, data.length);
      assert.equal(show.body.virtual_size, data.length);
      assert.equal(show.body.checksum, createHash('md5').update(data).digest('hex'));
      assert.equal(show.body.os_hash_value, createHash('sha512').update(data).digest('hex'));

      const dl = await download(img.id);
      assert.equal(dl.statusCode, 200);
      assert.ok(dl.rawPayload.equals(data));
      assert.equal(dl.headers['content-md5'], show.body.checksum);

      const part = await download(img.id, 'demo', { range: 'bytes=10-19' });
      assert.equal(part.statusCode, 206);
      assert.equal(part.headers['content-range'], `bytes 10-19/${data.length}`);
      assert.ok(part.rawPayload.equals(data.subarray(10, 20)));
      const bad = await download(img.id, 'demo', { range: `bytes=${data.length}-` });
      assert.equal(bad.statusCode, 416);

      const again = await upload(img.id, data);
      assert.equal(again.status, 409);
    });

    it('requires formats, octet-stream and ownership to upload', async () => {
      const noFormat = await create({ name: 'no-format' });
      const r1 = await upload(noFormat.id, Buffer.from('abc'));
      assert.equal(r1.status, 400);
      assert.match(r1.text, /Properties disk_format, container_format must be set prior to saving data/);
      assert.equal((await get(`/v2/images/${noFormat.id}`)).body.status, 'queued');

      const img = await create({ name: 'ct', disk_format: 'raw', container_format: 'bare' });
      const r2 = await upload(img.id, Buffer.from('abc'), 'demo', 'application/json');
      assert.equal(r2.status, 415);
      const shared = await create({ name: 'public-ish', disk_format: 'raw', container_format: 'bare', visibility: 'community' });
      const r3 = await upload(shared.id, Buffer.from('abc'), 'alt_demo');
      assert.equal(r3.status, 403);
      const r4 = await upload('00000000-0000-4000-8000-000000000000', Buffer.from('abc'));
      assert.equal(r4.status, 404);
    });

    it('accepts a caller-chosen id once, and refuses read-only and reserved attributes', async () => {
      const id = '6d4b0a3e-6a4c-4c3b-9d2a-0f1e2d3c4b5a';
      const img = await create({ id, name: 'chosen' });
      assert.equal(img.id, id);
      const dup = await cloud.request({ method: 'POST', url: '/image/v2/images', body: { id }, headers: JSON_ACCEPT });
      assert.equal(dup.status, 409);
      for (const body of [{ status: 'active' }, { size: 3 }, { checksum: 'x' }, { self: '/x' }, { created_at: 'x' }]) {
        const res = await cloud.request({ method: 'POST', url: '/image/v2/images', body, headers: JSON_ACCEPT });
        assert.equal(res.status, 403, JSON.stringify(body));
        assert.match(res.body.message, /is read-only/);
      }
      for (const body of [{ deleted: 'x' }, { os_glance_foo: 'x' }, { locations: [] }]) {
        const res = await cloud.request({ method: 'POST', url: '/image/v2/images', body, headers: JSON_ACCEPT });
        assert.equal(res.status, 403, JSON.stringify(body));
      }
    });

    it('keeps property names that collide with JavaScript object internals', async () => {
      const img = await create({ name: 'odd', constructor: 'c', toString: 't', ['__proto__']: 'p' });
      assert.equal(img.constructor, 'c');
      assert.equal(img.__proto__, 'p');
      const shown = await get(`/v2/images/${img.id}`);
      assert.equal(shown.body.toString, 't');
      assert.equal(shown.body.__proto__, 'p');
      const rm = await patch(img.id, [{ op: 'remove', path: '/hasOwnProperty' }]);
      assert.equal(rm.status, 409);
      const ok = await patch(img.id, [{ op: 'remove', path: '/__proto__' }]);
      assert.equal(ok.status, 200);
      assert.ok(!Object.hasOwn(ok.body, '__proto__'));
    });

    it('answers bad input with 400, never 500', async () => {
      const bodies: unknown[] = [
        [],
        'a string',
        { name: 'x'.repeat(256) },
        { disk_format: 'floppy' },
        { container_format: 'crate' },
        { min_ram: 'lots' },
        { min_ram: -1 },
        { min_disk: 1.5 },
        { protected: 'yes' },
        { visibility: 'everyone' },
        { tags: 'not-a-list' },
        { tags: ['x'.repeat(256)] },
        { hw_foo: 3 },
        { id: 'not-a-uuid' },
        { ['k'.repeat(256)]: 'v' },
      ];
      for (const body of bodies) {
        const res = await cloud.request({ method: 'POST', url: '/image/v2/images', body, headers: JSON_ACCEPT });
        assert.equal(res.status, 400, `${JSON.stringify(body).slice(0, 60)} -> ${res.status} ${res.text}`);
      }
      const malformed = await cloud.request({ method: 'POST', url: '/image/v2/images', body: '{"name": ', headers: JSON_ACCEPT });
      assert.equal(malformed.status, 400);
      assert.match(malformed.body.message, /^Malformed JSON in request body\./);
      const empty = await cloud.request({ method: 'POST', url: '/image/v2/images', headers: { ...JSON_ACCEPT, 'content-type': 'application/json' } });
      assert.equal(empty.status, 400);
    });

    it('lets only admins create public images', async () => {
      const res = await cloud.request({ method: 'POST', url: '/image/v2/images', body: { name: 'pub', visibility: 'public' }, headers: JSON_ACCEPT });
      assert.equal(res.status, 403);
      assert.match(res.body.message, /publicize_image/);
      const other = await cloud.request({ method: 'POST', url: '/image/v2/images', body: { owner: 'someone-else' }, headers: JSON_ACCEPT });
      assert.equal(other.status, 403);
      const pub = await create({ name: 'admin-public', visibility: 'public' }, 'admin');
      assert.equal(pub.visibility, 'public');
      const forOther = await create({ name: 'admin-for-demo', owner: projectOf('demo') }, 'admin');
      assert.equal(forOther.owner, projectOf('demo'));
    });
  });

  describe('list filters and paging', () => {
    let tagged: string;
    let big: string;
    let hidden: string;
    before(async () => {
      tagged = (await create({ name: 'filter-a', disk_format: 'qcow2', container_format: 'bare', tags: ['gold', 'x86'], os_distro: 'ubuntu' })).id;
      big = (await create({ name: 'filter-b', disk_format: 'raw', container_format: 'bare', tags: ['gold'], protected: true })).id;
      assert.equal((await upload(big, Buffer.alloc(5000, 1))).status, 204);
      hidden = (await create({ name: 'filter-hidden', disk_format: 'raw', container_format: 'bare', os_hidden: true })).id;
    });

    it('filters by name, in: lists, status, formats and properties', async () => {
      assert.deepEqual(ids(await get('/v2/images?name=filter-a')), [tagged]);
      assert.deepEqual(ids(await get('/v2/images?name=in:filter-a,filter-b&sort=name:asc')), [tagged, big]);
      assert.deepEqual(ids(await get('/v2/images?name=in:"filter-a",nope')), [tagged]);
      assert.deepEqual(ids(await get(`/v2/images?id=in:${tagged},${big}&sort=name:desc`)), [big, tagged]);
      assert.ok(ids(await get('/v2/images?status=active')).includes(big));
      assert.ok(!ids(await get('/v2/images?status=active')).includes(tagged));
      assert.deepEqual(ids(await get('/v2/images?name=in:filter-a,filter-b&disk_format=qcow2')), [tagged]);
      assert.deepEqual(ids(await get('/v2/images?os_distro=ubuntu')), [tagged]);
      assert.deepEqual(ids(await get('/v2/images?os_distro=debian')), []);
      assert.deepEqual(ids(await get('/v2/images?name=in:')), []);
      assert.deepEqual(ids(await get('/v2/images?name=in:filter-a,filter-b&container_format=bare&sort_key=name&sort_dir=asc')), [tagged, big]);
    });

    it('filters by tags (all must match), size range, protected, owner and os_hidden', async () => {
      assert.deepEqual(ids(await get('/v2/images?tag=gold&sort=name:asc')), [tagged, big]);
      assert.deepEqual(ids(await get('/v2/images?tag=gold&tag=x86')), [tagged]);
      assert.deepEqual(ids(await get('/v2/images?size_min=4000&size_max=6000')), [big]);
      assert.deepEqual(ids(await get('/v2/images?protected=true')), [big]);
      assert.ok(!ids(await get('/v2/images')).includes(hidden));
      assert.deepEqual(ids(await get('/v2/images?os_hidden=true')), [hidden]);
      const mine = ids(await get(`/v2/images?owner=${projectOf('demo')}`));
      assert.ok(mine.includes(tagged) && !mine.includes(CIRROS_IMAGE_ID));
      const future = ids(await get('/v2/images?created_at=gt:2999-01-01T00:00:00Z'));
      assert.deepEqual(future, []);
      const past = ids(await get('/v2/images?created_at=gte:2000-01-01T00:00:00Z'));
      assert.ok(past.includes(tagged));
      const pub = ids(await get('/v2/images?visibility=public'));
      assert.ok(pub.includes(CIRROS_IMAGE_ID) && !pub.includes(tagged));
    });

    it('pages with limit and marker, following next links to the end', async () => {
      for (let i = 0; i < 5; i++) await create({ name: `page-${i}`, tags: ['paging'] });
      const seen: string[] = [];
      let url: string | undefined = '/v2/images?tag=paging&sort=name:asc&limit=2';
      let pages = 0;
      while (url !== undefined) {
        const res = await get(url);
        assert.equal(res.status, 200);
        pages += 1;
        seen.push(...(res.body.images as { name: string }[]).map((i) => i.name));
        assert.ok(!String(res.body.first).includes('marker='));
        url = res.body.next as string | undefined;
        if (url !== undefined) assert.match(url, /^\/v2\/images\?.*marker=[0-9a-f-]{36}/);
      }
      assert.deepEqual(seen, ['page-0', 'page-1', 'page-2', 'page-3', 'page-4']);
      assert.equal(pages, 3);
      const desc = await get('/v2/images?tag=paging&sort_key=name&sort_dir=desc&limit=10');
      assert.deepEqual((desc.body.images as { name: string }[]).map((i) => i.name), ['page-4', 'page-3', 'page-2', 'page-1', 'page-0']);
      assert.equal(desc.body.next, undefined);
      const zero = await get('/v2/images?limit=0');
      assert.deepEqual(zero.body.images, []);
    });

    it('answers bad list parameters with 400', async () => {
      const bad = [
        'sort_key=colour',
        'sort=colour:asc',
        'sort=name:sideways',
        'sort_dir=up',
        'sort=name&sort_key=name',
        'sort_key=name&sort_dir=asc&sort_dir=desc&sort_dir=asc',
        'limit=abc',
        'limit=-1',
        'limit=1.5',
        'marker=not-a-uuid',
        'marker=00000000-0000-4000-8000-000000000000',
        `marker=${'x'.repeat(40)}`,
        'visibility=everyone',
        'member_status=maybe',
        'size_min=big',
        'os_hidden=maybe',
        'protected=perhaps',
        'changes-since=2020-01-01',
        'created_at=soon',
        'created_at=around:2020-01-01T00:00:00Z',
        'created_at=constructor:2020-01-01T00:00:00Z',
        'name=like:foo',
        'name=in:"a"b',
      ];
      for (const q of bad) {
        const res = await get(`/v2/images?${q}`);
        assert.equal(res.status, 400, `${q} -> ${res.status} ${res.text}`);
        assert.equal(res.body.code, '400 Bad Request');
      }
    });
  });

  describe('PATCH', () => {
    it('adds, replaces and removes attributes and properties', async () => {
      const img = await create({ name: 'p', foo: 'bar' });
      const res = await patch(img.id, [
        { op: 'replace', path: '/name', value: 'p2' },
        { op: 'add', path: '/hw_qemu_guest_agent', value: 'yes' },
        { op: 'replace', path: '/foo', value: 'baz' },
        { op: 'add', path: '/min_ram', value: 512 },
        { op: 'replace', path: '/tags', value: ['t1', 't2'] },
        { op: 'replace', path: '/protected', value: true },
      ]);
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.name, 'p2');
      assert.equal(res.body.hw_qemu_guest_agent, 'yes');
      assert.equal(res.body.foo, 'baz');
      assert.equal(res.body.min_ram, 512);
      assert.equal(res.body.protected, true);
      assert.deepEqual(res.body.tags, ['t1', 't2']);
      const removed = await patch(img.id, [{ op: 'remove', path: '/foo' }]);
      assert.equal(removed.status, 200);
      assert.ok(!('foo' in removed.body));
      const shown = await get(`/v2/images/${img.id}`);
      assert.equal(shown.body.name, 'p2');
      assert.equal(shown.body.hw_qemu_guest_agent, 'yes');
      const old = await patch(img.id, [{ replace: '/name', value: 'p3' }], 'demo', { 'content-type': 'application/openstack-images-v2.0-json-patch' });
      assert.equal(old.status, 200);
      assert.equal(old.body.name, 'p3');
      const dup = await patch(img.id, [{ add: '/name', value: 'p4' }], 'demo', { 'content-type': 'application/openstack-images-v2.0-json-patch' });
      assert.equal(dup.status, 409);
    });

    it('refuses bad patches with Glance status codes', async () => {
      const img = await create({ name: 'q', disk_format: 'raw', container_format: 'bare' });
      const cases: [unknown, number][] = [
        [{ op: 'replace', path: '/name', value: 'x' }, 400],
        [[{ op: 'move', path: '/name', value: 'x' }], 400],
        [[{ path: '/name', value: 'x' }], 400],
        [[{ op: 'replace', value: 'x' }], 400],
        [[{ op: 'replace', path: 'name', value: 'x' }], 400],
        [[{ op: 'replace', path: '/a/b', value: 'x' }], 400],
        [[{ op: 'replace', path: '/name' }], 400],
        [[{ op: 'replace', path: '/min_disk', value: 'big' }], 400],
        [[{ op: 'replace', path: '/min_disk', value: -2 }], 400],
        [[{ op: 'add', path: '/hw_x', value: 7 }], 400],
        [['not an object'], 400],
        [[{ op: 'replace', path: '/status', value: 'active' }], 403],
        [[{ op: 'replace', path: '/id', value: 'x' }], 403],
        [[{ op: 'remove', path: '/name' }], 403],
        [[{ op: 'add', path: '/deleted', value: 'x' }], 403],
        [[{ op: 'replace', path: '/missing', value: 'x' }], 409],
        [[{ op: 'remove', path: '/missing' }], 409],
        [[{ op: 'replace', path: '/visibility', value: 'public' }], 403],
        [[{ op: 'replace', path: '/owner', value: 'x' }], 403],
      ];
      for (const [ops, status] of cases) {
        const res = await patch(img.id, ops);
        assert.equal(res.status, status, `${JSON.stringify(ops)} -> ${res.status} ${res.text}`);
      }
      const wrongType = await patch(img.id, [{ op: 'replace', path: '/name', value: 'x' }], 'demo', { 'content-type': 'application/json' });
      assert.equal(wrongType.status, 415);
      const bad = await cloud.request({ method: 'PATCH', url: `/image/v2/images/${img.id}`, body: '[{', headers: { ...JSON_ACCEPT, ...PATCH_CT } });
      assert.equal(bad.status, 400);
      assert.equal((await upload(img.id, Buffer.from('data'))).status, 204);
      const fmt = await patch(img.id, [{ op: 'replace', path: '/disk_format', value: 'qcow2' }]);
      assert.equal(fmt.status, 403);
    });

    it('lets only the owner (or admin) modify, and only admins publicize', async () => {
      const cirros = await patch(CIRROS_IMAGE_ID, [{ op: 'replace', path: '/name', value: 'mine' }]);
      assert.equal(cirros.status, 403);
      const img = await create({ name: 'owned' });
      const other = await patch(img.id, [{ op: 'replace', path: '/name', value: 'stolen' }], 'alt_demo');
      assert.equal(other.status, 404);
      const admin = await patch(img.id, [{ op: 'replace', path: '/visibility', value: 'public' }], 'admin');
      assert.equal(admin.status, 200);
      assert.equal(admin.body.visibility, 'public');
      const seen = await patch(img.id, [{ op: 'replace', path: '/name', value: 'stolen' }], 'alt_demo');
      assert.equal(seen.status, 403);
    });
  });

  describe('visibility between projects', () => {
    it('hides a private image of demo from alt_demo; admins see all', async () => {
      const img = await create({ name: 'demo-private', visibility: 'private', disk_format: 'raw', container_format: 'bare' });
      assert.equal((await upload(img.id, Buffer.from('secret'))).status, 204);
      assert.equal((await get(`/v2/images/${img.id}`, 'alt_demo')).status, 404);
      assert.ok(!ids(await get('/v2/images?limit=1000', 'alt_demo')).includes(img.id));
      assert.ok(!ids(await get('/v2/images?visibility=all&limit=1000', 'alt_demo')).includes(img.id));
      assert.equal((await download(img.id, 'alt_demo')).statusCode, 404);
      assert.equal((await del(img.id, 'alt_demo')).status, 404);
      assert.equal((await cloud.images.catalog.get(img.id, projectOf('alt_demo'), false)), null);
      assert.equal((await cloud.images.catalog.get(img.id, projectOf('demo'), false))?.id, img.id);
      assert.equal((await cloud.images.catalog.get(img.id, projectOf('alt_demo'), true))?.id, img.id);

      assert.equal((await get(`/v2/images/${img.id}`, 'admin')).status, 200);
      assert.ok(ids(await get('/v2/images?limit=1000', 'admin')).includes(img.id));
      assert.ok(ids(await get('/v2/images?visibility=private&limit=1000', 'admin')).includes(img.id));
      assert.equal((await download(img.id, 'admin')).statusCode, 200);
    });

    it('shares an image through members: pending, then accepted into the default list', async () => {
      const img = await create({ name: 'to-share', visibility: 'shared' });
      const alt = projectOf('alt_demo');
      assert.equal((await get(`/v2/images/${img.id}`, 'alt_demo')).status, 404);
      const add = await cloud.request({ method: 'POST', url: `/image/v2/images/${img.id}/members`, body: { member: alt }, headers: JSON_ACCEPT });
      assert.equal(add.status, 200, add.text);
      assert.equal(add.body.status, 'pending');
      assert.equal(add.body.member_id, alt);
      assert.equal(add.body.schema, '/v2/schemas/member');
      const dup = await cloud.request({ method: 'POST', url: `/image/v2/images/${img.id}/members`, body: { member: alt }, headers: JSON_ACCEPT });
      assert.equal(dup.status, 409);

      assert.equal((await get(`/v2/images/${img.id}`, 'alt_demo')).status, 200);
      assert.ok(!ids(await get('/v2/images?limit=1000', 'alt_demo')).includes(img.id));
      assert.ok(ids(await get('/v2/images?member_status=pending&limit=1000', 'alt_demo')).includes(img.id));

      const ownerAccept = await cloud.request({ method: 'PUT', url: `/image/v2/images/${img.id}/members/${alt}`, body: { status: 'accepted' }, headers: JSON_ACCEPT });
      assert.equal(ownerAccept.status, 403);
      const accept = await cloud.request({
        method: 'PUT',
        url: `/image/v2/images/${img.id}/members/${alt}`,
        as: 'alt_demo',
        body: { status: 'accepted' },
        headers: JSON_ACCEPT,
      });
      assert.equal(accept.status, 200, accept.text);
      assert.equal(accept.body.status, 'accepted');
      assert.ok(ids(await get('/v2/images?limit=1000', 'alt_demo')).includes(img.id));
      const members = await get(`/v2/images/${img.id}/members`);
      assert.equal(members.body.members.length, 1);
      assert.equal(members.body.schema, '/v2/schemas/members');
      const altMembers = await get(`/v2/images/${img.id}/members`, 'alt_demo');
      assert.equal(altMembers.body.members.length, 1);
      assert.equal((await get(`/v2/images/${img.id}/members/${alt}`, 'alt_demo')).status, 200);
      assert.equal((await cloud.images.catalog.get(img.id, alt, false))?.id, img.id);

      const rm = await cloud.request({ method: 'DELETE', url: `/image/v2/images/${img.id}/members/${alt}`, headers: JSON_ACCEPT });
      assert.equal(rm.status, 204);
      assert.equal((await get(`/v2/images/${img.id}`, 'alt_demo')).status, 404);

      const priv = await create({ name: 'no-members', visibility: 'private' });
      const refused = await cloud.request({ method: 'POST', url: `/image/v2/images/${priv.id}/members`, body: { member: alt }, headers: JSON_ACCEPT });
      assert.equal(refused.status, 403);
      const badBody = await cloud.request({ method: 'POST', url: `/image/v2/images/${img.id}/members`, body: { nobody: 1 }, headers: JSON_ACCEPT });
      assert.equal(badBody.status, 400);
    });

    it('lists community images of other projects only on request', async () => {
      const img = await create({ name: 'community-one', visibility: 'community' });
      assert.ok(!ids(await get('/v2/images?limit=1000', 'alt_demo')).includes(img.id));
      assert.ok(ids(await get('/v2/images?visibility=community&limit=1000', 'alt_demo')).includes(img.id));
      assert.ok(ids(await get('/v2/images?visibility=all&limit=1000', 'alt_demo')).includes(img.id));
      assert.ok(ids(await get('/v2/images?limit=1000', 'demo')).includes(img.id));
      assert.equal((await get(`/v2/images/${img.id}`, 'alt_demo')).status, 200);
    });
  });

  describe('delete, protection, deactivation, tags', () => {
    it('deletes with 204, then the image is gone', async () => {
      const img = await create({ name: 'doomed', disk_format: 'raw', container_format: 'bare' });
      await upload(img.id, Buffer.from('bye'));
      assert.equal((await del(img.id)).status, 204);
      assert.equal((await get(`/v2/images/${img.id}`)).status, 404);
      assert.equal((await del(img.id)).status, 404);
      assert.ok(!ids(await get('/v2/images?limit=1000')).includes(img.id));
      assert.equal(await cloud.images.catalog.get(img.id, projectOf('demo'), true), null);
      assert.equal((await del(CIRROS_IMAGE_ID)).status, 403);
    });

    it('refuses to delete a protected image until unprotected', async () => {
      const img = await create({ name: 'keep', protected: true });
      const res = await del(img.id);
      assert.equal(res.status, 403);
      assert.match(res.body.message, /is protected and cannot be deleted/);
      assert.equal((await patch(img.id, [{ op: 'replace', path: '/protected', value: false }])).status, 200);
      assert.equal((await del(img.id)).status, 204);
    });

    it('deactivates and reactivates; only admins download a deactivated image', async () => {
      const img = await create({ name: 'deact', disk_format: 'raw', container_format: 'bare' });
      const queued = await cloud.request({ method: 'POST', url: `/image/v2/images/${img.id}/actions/deactivate`, headers: JSON_ACCEPT });
      assert.equal(queued.status, 403);
      await upload(img.id, Buffer.from('payload'));
      const d = await cloud.request({ method: 'POST', url: `/image/v2/images/${img.id}/actions/deactivate`, headers: JSON_ACCEPT });
      assert.equal(d.status, 204);
      assert.equal((await get(`/v2/images/${img.id}`)).body.status, 'deactivated');
      assert.equal((await download(img.id)).statusCode, 403);
      assert.equal((await download(img.id, 'admin')).statusCode, 200);
      const r = await cloud.request({ method: 'POST', url: `/image/v2/images/${img.id}/actions/reactivate`, headers: JSON_ACCEPT });
      assert.equal(r.status, 204);
      assert.equal((await get(`/v2/images/${img.id}`)).body.status, 'active');
      assert.equal((await download(img.id)).statusCode, 200);
    });

    it('adds and removes tags', async () => {
      const img = await create({ name: 'tags' });
      const put = await cloud.request({ method: 'PUT', url: `/image/v2/images/${img.id}/tags/blue`, headers: JSON_ACCEPT });
      assert.equal(put.status, 204);
      await cloud.request({ method: 'PUT', url: `/image/v2/images/${img.id}/tags/blue`, headers: JSON_ACCEPT });
      assert.deepEqual((await get(`/v2/images/${img.id}`)).body.tags, ['blue']);
      assert.deepEqual(ids(await get('/v2/images?tag=blue')), [img.id]);
      const rm = await cloud.request({ method: 'DELETE', url: `/image/v2/images/${img.id}/tags/blue`, headers: JSON_ACCEPT });
      assert.equal(rm.status, 204);
      const again = await cloud.request({ method: 'DELETE', url: `/image/v2/images/${img.id}/tags/blue`, headers: JSON_ACCEPT });
      assert.equal(again.status, 404);
      const long = await cloud.request({ method: 'PUT', url: `/image/v2/images/${img.id}/tags/${'t'.repeat(256)}`, headers: JSON_ACCEPT });
      assert.equal(long.status, 400);
      const foreign = await cloud.request({ method: 'PUT', url: `/image/v2/images/${CIRROS_IMAGE_ID}/tags/mine`, headers: JSON_ACCEPT });
      assert.equal(foreign.status, 403);
    });
  });

  describe('interoperable import (glance-direct)', () => {
    it('stages data and imports it', async () => {
      const img = await create({ name: 'imported', disk_format: 'raw', container_format: 'bare' });
      const data = Buffer.from('staged bytes');
      const stage = await cloud.app.inject({
        method: 'PUT',
        url: `/image/v2/images/${img.id}/stage`,
        headers: { 'x-auth-token': cloud.tokens.demo, 'content-type': 'application/octet-stream' },
        payload: data,
      });
      assert.equal(stage.statusCode, 204, stage.body);
      assert.equal((await get(`/v2/images/${img.id}`)).body.status, 'uploading');
      const wrong = await cloud.request({ method: 'POST', url: `/image/v2/images/${img.id}/import`, body: { method: { name: 'web-download' } }, headers: JSON_ACCEPT });
      assert.equal(wrong.status, 400);
      const imp = await cloud.request({ method: 'POST', url: `/image/v2/images/${img.id}/import`, body: { method: { name: 'glance-direct' } }, headers: JSON_ACCEPT });
      assert.equal(imp.status, 202, imp.text);
      const shown = await get(`/v2/images/${img.id}`);
      assert.equal(shown.body.status, 'active');
      assert.equal(shown.body.checksum, createHash('md5').update(data).digest('hex'));
      assert.ok((await download(img.id)).rawPayload.equals(data));
    });
  });

  describe('service API for compute snapshots', () => {
    it('creates, uploads, marks and deletes images without policy', async () => {
      const demo = projectOf('demo');
      const rec = await cloud.images.createImage({
        name: 'snap',
        owner: demo,
        disk_format: 'qcow2',
        container_format: 'bare',
        properties: { image_type: 'snapshot', instance_uuid: '11111111-2222-4333-8444-555555555555' },
      });
      assert.equal(rec.status, 'queued');
      assert.equal(rec.visibility, 'private');
      assert.equal(rec.properties.image_type, 'snapshot');
      const active = await cloud.images.uploadImage(rec.id, Buffer.from('snapshot data'));
      assert.equal(active.status, 'active');
      assert.equal(active.size, 13);
      const shown = await get(`/v2/images/${rec.id}`);
      assert.equal(shown.body.image_type, 'snapshot');
      assert.equal((await get(`/v2/images/${rec.id}`, 'alt_demo')).status, 404);
      assert.equal(await cloud.images.setStatus(rec.id, 'killed'), true);
      assert.ok(!ids(await get('/v2/images?limit=1000')).includes(rec.id));
      assert.equal(await cloud.images.delete(rec.id), true);
      assert.equal(await cloud.images.getImage(rec.id), null);
      assert.equal(await cloud.images.delete(rec.id), false);
    });
  });
});
