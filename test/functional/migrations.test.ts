import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestCloud, type TestCloud } from '../helpers/cloud.js';
import { boot } from '../helpers/servers.js';
import { assertLedger } from '../helpers/ledger.js';

describe('os-migrations and /servers/{id}/migrations', () => {
  let cloud: TestCloud;
  let a: string;
  let b: string;
  let beforeSecond = '';
  before(async () => {
    cloud = await startTestCloud({ compute: { hosts: [{ name: 'h1' }, { name: 'h2' }] } });
    a = await boot(cloud, { flavorRef: '1' });
    b = await boot(cloud, { flavorRef: '1', as: 'alt_demo' });
    const act = (id: string, body: unknown, as: 'demo' | 'admin' | 'alt_demo') =>
      cloud.request({ method: 'POST', url: `/compute/v2.1/servers/${id}/action`, as, body });
    assert.equal((await act(a, { resize: { flavorRef: '2' } }, 'demo')).status, 202);
    await cloud.settle();
    assert.equal((await act(a, { confirmResize: null }, 'demo')).status, 204);
    await cloud.settle();
    await cloud.clock.advance(5000);
    beforeSecond = new Date(cloud.clock.now() - 1000).toISOString();
    assert.equal((await act(b, { migrate: null }, 'admin')).status, 202);
    await cloud.settle();
    await assertLedger(cloud);
  });
  after(async () => {
    await cloud.close();
  });
  const list = (query = '', version = '2.1', as: 'admin' | 'demo' = 'admin') =>
    cloud.request({ url: `/compute/v2.1/os-migrations${query}`, as, version });

  it('lists every migration, newest first, with the 2.1 fields', async () => {
    const res = await list();
    assert.equal(res.status, 200);
    const ms = res.body.migrations as Record<string, unknown>[];
    assert.equal(ms.length, 2);
    assert.equal(ms[0]?.instance_uuid, b);
    assert.equal(ms[0]?.status, 'finished');
    assert.equal(ms[1]?.status, 'confirmed');
    assert.deepEqual(Object.keys(ms[0] ?? {}).sort(), [
      'created_at', 'dest_compute', 'dest_host', 'dest_node', 'id', 'instance_uuid', 'new_instance_type_id',
      'old_instance_type_id', 'source_compute', 'source_node', 'status', 'updated_at',
    ]);
    assert.equal(typeof ms[0]?.id, 'number');
  });

  it('adds migration_type at 2.23, uuid and paging at 2.59, user and project at 2.80', async () => {
    const m223 = (await list('', '2.23')).body.migrations[0] as Record<string, unknown>;
    assert.equal(m223.migration_type, 'migration');
    assert.equal(m223.uuid, undefined);
    assert.equal(m223.links, undefined, 'links only for in-progress live migrations');
    const m259 = (await list('', '2.59')).body.migrations[0] as Record<string, unknown>;
    assert.match(String(m259.uuid), /^[0-9a-f-]{36}$/);
    assert.equal(m259.user_id, undefined);
    const m280 = (await list('', '2.80')).body.migrations[0] as Record<string, unknown>;
    assert.equal(typeof m280.user_id, 'string');
    assert.equal(typeof m280.project_id, 'string');
    const page = await list('?limit=1', '2.59');
    assert.equal(page.body.migrations.length, 1);
    const next = page.body.migrations_links[0].href as string;
    assert.match(next, /os-migrations\?limit=1&marker=/);
    const marker = new URL(next).searchParams.get('marker') ?? '';
    const page2 = await list(`?limit=1&marker=${marker}`, '2.59');
    assert.equal(page2.body.migrations[0].instance_uuid, a);
    const bad = await list('?marker=nope', '2.59');
    assert.equal(bad.status, 400);
    assert.equal(bad.body.badRequest.message, 'Marker nope could not be found.');
  });

  it('filters by instance_uuid, status, migration_type, host, source_compute', async () => {
    assert.deepEqual((await list(`?instance_uuid=${a}`)).body.migrations.map((m: { instance_uuid: string }) => m.instance_uuid), [a]);
    assert.equal((await list('?status=confirmed')).body.migrations.length, 1);
    assert.equal((await list('?migration_type=resize', '2.23')).body.migrations[0].instance_uuid, a);
    assert.equal((await list('?migration_type=live-migration', '2.23')).body.migrations.length, 0);
    assert.equal((await list('?host=h1')).body.migrations.length + (await list('?host=h2')).body.migrations.length >= 2, true);
    assert.equal((await list('?source_compute=nowhere')).body.migrations.length, 0);
  });

  it('filters by changes-since (2.59) and changes-before (2.66)', async () => {
    const since = await list(`?changes-since=${encodeURIComponent(beforeSecond)}`, '2.59');
    assert.deepEqual(since.body.migrations.map((m: { instance_uuid: string }) => m.instance_uuid), [b]);
    const beforeQ = await list(`?changes-before=${encodeURIComponent(beforeSecond)}`, '2.66');
    assert.deepEqual(beforeQ.body.migrations.map((m: { instance_uuid: string }) => m.instance_uuid), [a]);
    const ignored = await list(`?changes-before=${encodeURIComponent(beforeSecond)}`, '2.65');
    assert.equal(ignored.body.migrations.length, 2, 'changes-before is ignored before 2.66');
    const inverted = await list(`?changes-since=${encodeURIComponent(beforeSecond)}&changes-before=2000-01-01T00:00:00Z`, '2.66');
    assert.equal(inverted.status, 400);
    assert.equal(inverted.body.badRequest.message, 'The value of changes-since must be less than or equal to changes-before.');
  });

  it('filters by user_id and project_id from 2.80', async () => {
    const all = (await list('', '2.80')).body.migrations as { project_id: string; user_id: string; instance_uuid: string }[];
    const pa = all.find((m) => m.instance_uuid === a)?.project_id ?? '';
    assert.deepEqual((await list(`?project_id=${pa}`, '2.80')).body.migrations.map((m: { instance_uuid: string }) => m.instance_uuid), [a]);
    const ua = all.find((m) => m.instance_uuid === b)?.user_id ?? '';
    assert.deepEqual((await list(`?user_id=${ua}`, '2.80')).body.migrations.map((m: { instance_uuid: string }) => m.instance_uuid), [b]);
  });

  it('is refused to project members', async () => {
    const res = await list('', '2.1', 'demo');
    assert.equal(res.status, 403);
    assert.equal(res.body.forbidden.message, "Policy doesn't allow os_compute_api:os-migrations:index to be performed.");
  });

  it('/servers/{id}/migrations lists in-progress live migrations only (none) from 2.23', async () => {
    assert.equal((await cloud.request({ url: `/compute/v2.1/servers/${b}/migrations`, as: 'admin', version: '2.22' })).status, 404);
    const res = await cloud.request({ url: `/compute/v2.1/servers/${b}/migrations`, as: 'admin', version: '2.23' });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { migrations: [] });
    const one = await cloud.request({ url: `/compute/v2.1/servers/${b}/migrations/1`, as: 'admin', version: '2.23' });
    assert.equal(one.status, 404);
    const member = await cloud.request({ url: `/compute/v2.1/servers/${a}/migrations`, as: 'demo', version: '2.23' });
    assert.equal(member.status, 403);
    const other = await cloud.request({ url: `/compute/v2.1/servers/${b}/migrations`, as: 'demo', version: '2.23' });
    assert.equal(other.status, 404);
  });
});
