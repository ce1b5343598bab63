import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { startTestCloud, type TestCloud, type TestResponse } from '../helpers/cloud.js';
import { boot, cirrosId } from '../helpers/servers.js';

const V = '/compute/v2.1';
const URL = `${V}/os-aggregates`;
type As = 'admin' | 'demo' | 'alt_demo';

const HOSTS = [{ name: 'compute1' }, { name: 'compute2' }, { name: 'compute3', availability_zone: 'az3' }];
const MICRO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/;
const WHOLE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000000$/;
const KEYS_21 = ['availability_zone', 'created_at', 'deleted', 'deleted_at', 'hosts', 'id', 'metadata', 'name', 'updated_at'];
const MOVE_TAIL =
  'Changing the AZ of an existing instance is not supported by this action. Move the instances away from this host then try again. ' +
  'If you need to move the instances between AZs then you can use shelve_offload and unshelve to achieve this..';

describe('os-aggregates', () => {
  let cloud: TestCloud;
  before(async () => {
    cloud = await startTestCloud({ compute: { hosts: HOSTS } });
  });
  after(async () => {
    await cloud.close();
  });

  const create = (aggregate: unknown, version = '2.1', as: As = 'admin') => cloud.request({ method: 'POST', url: URL, as, version, body: { aggregate } });
  const show = (id: number | string, version = '2.1', as: As = 'admin') => cloud.request({ url: `${URL}/${id}`, as, version });
  const update = (id: number | string, aggregate: unknown, version = '2.1', as: As = 'admin') =>
    cloud.request({ method: 'PUT', url: `${URL}/${id}`, as, version, body: { aggregate } });
  const del = (id: number | string, as: As = 'admin') => cloud.request({ method: 'DELETE', url: `${URL}/${id}`, as });
  const act = (id: number | string, body: unknown, version = '2.1', as: As = 'admin') => cloud.request({ method: 'POST', url: `${URL}/${id}/action`, as, version, body });
  const addHost = (id: number, host: string, version = '2.1') => act(id, { add_host: { host } }, version);
  const removeHost = (id: number, host: string, version = '2.1') => act(id, { remove_host: { host } }, version);
  const setMeta = (id: number, metadata: unknown, version = '2.1') => act(id, { set_metadata: { metadata } }, version);
  const message = (res: TestResponse): string => String((Object.values(res.body ?? {})[0] as { message?: string } | undefined)?.message);
  const expectFault = (res: TestResponse, status: number, text: string | RegExp) => {
    assert.equal(res.status, status, res.text);
    if (typeof text === 'string') assert.equal(message(res), text);
    else assert.match(message(res), text);
  };
  const newAggregate = async (name: string, zone?: string): Promise<number> => {
    const res = await create(zone === undefined ? { name } : { name, availability_zone: zone });
    assert.equal(res.status, 200, res.text);
    return res.body.aggregate.id as number;
  };
  /** Empties and deletes an aggregate (so every test leaves no hosts behind). */
  const drop = async (id: number) => {
    const a = (await show(id)).body.aggregate as { hosts: string[] };
    for (const h of a.hosts) assert.equal((await removeHost(id, h)).status, 200);
    assert.equal((await del(id)).status, 200);
  };
  const zoneDetail = async (): Promise<Map<string, string[]>> => {
    const res = await cloud.request({ url: `${V}/os-availability-zone/detail`, as: 'admin' });
    assert.equal(res.status, 200);
    const out = new Map<string, string[]>();
    for (const z of res.body.availabilityZoneInfo as { zoneName: string; hosts: Record<string, unknown> | null }[]) out.set(z.zoneName, Object.keys(z.hosts ?? {}));
    return out;
  };
  const serviceZone = async (host: string): Promise<string> => {
    const res = await cloud.request({ url: `${V}/os-services?binary=nova-compute&host=${host}`, as: 'admin' });
    return String(res.body.services[0]?.zone);
  };
  const deleteServer = async (id: string) => {
    assert.equal((await cloud.request({ method: 'DELETE', url: `${V}/servers/${id}`, as: 'admin' })).status, 204);
    await cloud.settle();
  };

  describe('create, list, show', () => {
    it('creates an aggregate with and without a zone, shaped as Nova before and from 2.41', async () => {
      const plain = await create({ name: 'shape-plain' });
      assert.equal(plain.status, 200);
      const a = plain.body.aggregate;
      assert.deepEqual(Object.keys(a).sort(), ['availability_zone', 'created_at', 'deleted', 'deleted_at', 'id', 'name', 'updated_at']);
      assert.equal(typeof a.id, 'number');
      assert.equal(a.name, 'shape-plain');
      assert.equal(a.availability_zone, null);
      assert.equal(a.deleted, false);
      assert.equal(a.deleted_at, null);
      assert.equal(a.updated_at, null);
      assert.match(a.created_at, MICRO);

      const zoned = await create({ name: 'shape-zoned', availability_zone: 'london' }, '2.41');
      assert.equal(zoned.status, 200);
      const z = zoned.body.aggregate;
      assert.deepEqual(Object.keys(z).sort(), ['availability_zone', 'created_at', 'deleted', 'deleted_at', 'id', 'name', 'updated_at', 'uuid']);
      assert.match(z.uuid, /^[0-9a-f-]{36}$/);
      assert.equal(z.availability_zone, 'london');
      assert.equal(z.id, a.id + 1);

      const nullZone = await create({ name: 'shape-null', availability_zone: null });
      assert.equal(nullZone.status, 200);
      assert.equal(nullZone.body.aggregate.availability_zone, null);

      // Show: hosts and metadata, times from the database in whole seconds; uuid from 2.41.
      const s21 = (await show(z.id, '2.40')).body.aggregate;
      assert.deepEqual(Object.keys(s21).sort(), KEYS_21);
      assert.deepEqual(s21.hosts, []);
      assert.deepEqual(s21.metadata, { availability_zone: 'london' });
      assert.match(s21.created_at, WHOLE);
      assert.equal(s21.created_at.slice(0, 19), z.created_at.slice(0, 19));
      const s241 = (await show(z.id, '2.41')).body.aggregate;
      assert.deepEqual(Object.keys(s241).sort(), [...KEYS_21, 'uuid'].sort());
      assert.equal(s241.uuid, z.uuid);

      const list21 = await cloud.request({ url: URL, as: 'admin', version: '2.1' });
      assert.equal(list21.status, 200);
      const names = (list21.body.aggregates as { name: string }[]).map((x) => x.name);
      assert.deepEqual(names.slice(-3), ['shape-plain', 'shape-zoned', 'shape-null']);
      for (const x of list21.body.aggregates as Record<string, unknown>[]) assert.deepEqual(Object.keys(x).sort(), KEYS_21);
      const list241 = await cloud.request({ url: URL, as: 'admin', version: '2.41' });
      for (const x of list241.body.aggregates as Record<string, unknown>[]) assert.match(String(x.uuid), /^[0-9a-f-]{36}$/);

      for (const id of [a.id, z.id, nullZone.body.aggregate.id]) await drop(id as number);
    });

    it('answers 409 for a name in use and 400 for bad bodies', async () => {
      const id = await newAggregate('dup');
      expectFault(await create({ name: 'dup' }), 409, 'Aggregate dup already exists.');
      expectFault(await create({ name: 'dup', availability_zone: 'x' }), 409, 'Aggregate dup already exists.');
      expectFault(await create({}), 400, "'name' is a required property");
      expectFault(await create({ name: 'x', zone: 'y' }), 400, "Additional properties are not allowed ('zone' was unexpected)");
      expectFault(await create({ name: '' }), 400, /^Invalid input for field\/attribute name\. Value: \. '' should be non-empty/);
      expectFault(await create({ name: 'x'.repeat(256) }), 400, /is too long$/);
      expectFault(await create({ name: 5 }), 400, "Invalid input for field/attribute name. Value: 5. 5 is not of type 'string'");
      expectFault(await create({ name: ' lead' }), 400, "An invalid 'name' value was provided. The name must be: printable characters. Can not start or end with whitespace.");
      expectFault(await create({ name: 'tab\there' }), 400, /^An invalid 'name' value was provided/);
      const anyOf = (v: string) => `Invalid input for field/attribute availability_zone. Value: ${v}`;
      expectFault(await create({ name: 'z1', availability_zone: 'a:b' }), 400, `${anyOf('a:b')}. 'a:b' is not valid under any of the given schemas`);
      expectFault(await create({ name: 'z2', availability_zone: '' }), 400, `${anyOf('')}. '' is not valid under any of the given schemas`);
      expectFault(await create({ name: 'z3', availability_zone: ' az' }), 400, `${anyOf(' az')}. ' az' is not valid under any of the given schemas`);
      expectFault(await create({ name: 'z4', availability_zone: 7 }), 400, `${anyOf('7')}. 7 is not valid under any of the given schemas`);
      expectFault(await create({ name: 'z5', availability_zone: 'z'.repeat(256) }), 400, /is not valid under any of the given schemas$/);
      const noWrapper = await cloud.request({ method: 'POST', url: URL, as: 'admin', body: { name: 'x' } });
      expectFault(noWrapper, 400, "'aggregate' is a required property");
      assert.equal((await cloud.request({ method: 'POST', url: URL, as: 'admin', body: '{bad' })).status, 400);
      assert.equal((await cloud.request({ method: 'POST', url: URL, as: 'admin', body: [] })).status, 400);
      // Nothing was created by the refused requests.
      const list = (await cloud.request({ url: URL, as: 'admin' })).body.aggregates as { name: string }[];
      assert.deepEqual(list.map((a) => a.name), ['dup']);
      await drop(id);
    });

    it('lets one of two racing creates of a name win', async () => {
      const [x, y] = await Promise.all([create({ name: 'race' }), create({ name: 'race' })]);
      assert.deepEqual([x.status, y.status].sort(), [200, 409]);
      const won = x.status === 200 ? x : y;
      await drop(won.body.aggregate.id as number);
    });

    it("accepts any zone name Nova's schema accepts, the internal zone included", async () => {
      // Nova has no check against internal_service_availability_zone here.
      const id = await newAggregate('internal-zone', 'internal');
      assert.equal((await show(id)).body.aggregate.availability_zone, 'internal');
      await drop(id);
    });

    it('validates the id and answers 404 for an unknown aggregate', async () => {
      for (const call of [() => show('abc'), () => update('abc', { name: 'n' }), () => del('abc'), () => addHost(NaN, 'compute1'), () => setMeta(NaN, {})]) {
        expectFault(await call(), 400, 'Invalid input received: id must be an integer');
      }
      expectFault(await show(999), 404, 'Aggregate 999 could not be found.');
      expectFault(await update(999, { name: 'n' }), 404, 'Aggregate 999 could not be found.');
      expectFault(await del(999), 404, 'Aggregate 999 could not be found.');
      expectFault(await addHost(999, 'compute1'), 404, 'Aggregate 999 could not be found.');
      expectFault(await removeHost(999, 'compute1'), 404, 'Cannot remove host compute1 in aggregate 999');
      expectFault(await setMeta(999, { a: 'b' }), 404, 'Aggregate 999 could not be found.');
    });

    it('is strict about query parameters from 2.102', async () => {
      const id = await newAggregate('query');
      assert.equal((await cloud.request({ url: `${URL}?foo=1`, as: 'admin', version: '2.101' })).status, 200);
      assert.equal((await cloud.request({ url: `${URL}?foo=1`, as: 'admin', version: '2.102' })).status, 400);
      assert.equal((await cloud.request({ url: `${URL}/${id}?foo=1`, as: 'admin', version: '2.101' })).status, 200);
      assert.equal((await cloud.request({ url: `${URL}/${id}?foo=1`, as: 'admin', version: '2.102' })).status, 400);
      await drop(id);
    });
  });

  describe('policy', () => {
    it('is for administrators only: members and other projects get 403 with the rule named', async () => {
      const id = await newAggregate('policy');
      const image = await cirrosId(cloud);
      const calls: [string, () => Promise<TestResponse>][] = [
        ['index', () => cloud.request({ url: URL, as: 'demo' })],
        ['create', () => create({ name: 'nope' }, '2.1', 'demo')],
        ['show', () => show(id, '2.1', 'demo')],
        ['update', () => update(id, { name: 'nope' }, '2.1', 'alt_demo')],
        ['delete', () => del(id, 'demo')],
        ['add_host', () => act(id, { add_host: { host: 'compute1' } }, '2.1', 'demo')],
        ['remove_host', () => act(id, { remove_host: { host: 'compute1' } }, '2.1', 'alt_demo')],
        ['set_metadata', () => act(id, { set_metadata: { metadata: { a: 'b' } } }, '2.1', 'demo')],
      ];
      for (const [rule, call] of calls) expectFault(await call(), 403, `Policy doesn't allow os_compute_api:os-aggregates:${rule} to be performed.`);
      const images = await cloud.request({ method: 'POST', url: `${URL}/${id}/images`, as: 'demo', version: '2.81', body: { cache: [{ id: image }] } });
      expectFault(images, 403, "Policy doesn't allow compute:aggregates:images to be performed.");
      // Bodies are validated before the policy, as Nova's decorators do.
      expectFault(await create({}, '2.1', 'demo'), 400, "'name' is a required property");
      // Nothing changed.
      assert.equal((await show(id)).body.aggregate.name, 'policy');
      await drop(id);
    });
  });

  describe('update and delete', () => {
    it('renames and changes the zone; names in use are 409; bad bodies 400', async () => {
      const id = await newAggregate('upd', 'az-a');
      const other = await newAggregate('upd-other');
      const renamed = await update(id, { name: '  upd-new  ' }, '2.41');
      assert.equal(renamed.status, 200, renamed.text);
      const r = renamed.body.aggregate;
      assert.deepEqual(Object.keys(r).sort(), [...KEYS_21, 'uuid'].sort());
      assert.equal(r.name, 'upd-new');
      assert.match(r.updated_at, WHOLE);
      assert.deepEqual(r.metadata, { availability_zone: 'az-a' });
      // The name it already has is no change.
      assert.equal((await update(id, { name: 'upd-new' })).status, 200);
      expectFault(await update(id, { name: 'upd-other' }), 409, 'Aggregate upd-other already exists.');

      const rezoned = await update(id, { availability_zone: 'az-b' });
      assert.equal(rezoned.status, 200);
      assert.equal(rezoned.body.aggregate.availability_zone, 'az-b');
      assert.deepEqual(rezoned.body.aggregate.metadata, { availability_zone: 'az-b' });
      assert.match(rezoned.body.aggregate.updated_at, MICRO);
      assert.equal(rezoned.body.aggregate.uuid, undefined);

      expectFault(await update(id, { availability_zone: null }), 400, `Cannot update aggregate ${id}. Reason: Aggregate upd-new does not support empty named availability zone.`);
      expectFault(await update(id, {}), 400, 'Invalid input for field/attribute aggregate. Value: {}. {} is not valid under any of the given schemas');
      expectFault(await update(id, { name: 'x', uuid: 'y' }), 400, "Additional properties are not allowed ('uuid' was unexpected)");
      expectFault(await update(id, { name: '   ' }), 400, "An invalid 'name' value was provided. The name must be: printable characters with at least one non space character");
      expectFault(await update(id, { name: '' }), 400, /should be non-empty/);
      expectFault(await update(id, { availability_zone: 'a:b' }), 400, /is not valid under any of the given schemas$/);
      expectFault(await cloud.request({ method: 'PUT', url: `${URL}/${id}`, as: 'admin', body: { name: 'x' } }), 400, "'aggregate' is a required property");
      await drop(id);
      await drop(other);
    });

    it('deletes an empty aggregate only (200, no body)', async () => {
      const id = await newAggregate('del', 'az-del');
      assert.equal((await addHost(id, 'compute1')).status, 200);
      expectFault(await del(id), 400, `Cannot remove host from aggregate ${id}. Reason: Host aggregate is not empty.`);
      assert.equal((await removeHost(id, 'compute1')).status, 200);
      const res = await del(id);
      assert.equal(res.status, 200);
      assert.equal(res.text, '');
      expectFault(await show(id), 404, `Aggregate ${id} could not be found.`);
      // The name is free again, the id is not reused.
      const again = await newAggregate('del');
      assert.ok(again > id);
      await drop(again);
    });
  });

  describe('hosts', () => {
    it('adds and removes hosts, in the order they joined', async () => {
      const id = await newAggregate('hosts');
      const one = await addHost(id, 'compute1', '2.41');
      assert.equal(one.status, 200, one.text);
      assert.deepEqual(one.body.aggregate.hosts, ['compute1']);
      assert.match(one.body.aggregate.uuid, /^[0-9a-f-]{36}$/);
      assert.deepEqual(Object.keys(one.body.aggregate).sort(), [...KEYS_21, 'uuid'].sort());
      const two = await addHost(id, 'compute3');
      assert.deepEqual(two.body.aggregate.hosts, ['compute1', 'compute3']);
      assert.equal(two.body.aggregate.uuid, undefined);
      expectFault(await addHost(id, 'compute1'), 409, `Aggregate ${id} already has host compute1.`);
      expectFault(await addHost(id, 'nosuch'), 404, 'Compute host nosuch could not be found.');
      expectFault(await addHost(id, 'bad host'), 400, /^Invalid input for field\/attribute host\. Value: bad host\. 'bad host' does not match/);
      expectFault(await act(id, { add_host: {} }), 400, "'host' is a required property");
      expectFault(await act(id, { add_host: { host: 'compute1', x: 1 } }), 400, "Additional properties are not allowed ('x' was unexpected)");
      // A host may be in several aggregates.
      const second = await newAggregate('hosts-2');
      assert.deepEqual((await addHost(second, 'compute1')).body.aggregate.hosts, ['compute1']);

      const removed = await removeHost(id, 'compute1');
      assert.equal(removed.status, 200);
      assert.deepEqual(removed.body.aggregate.hosts, ['compute3']);
      expectFault(await removeHost(id, 'compute1'), 404, `Cannot remove host compute1 in aggregate ${id}`);
      expectFault(await removeHost(id, 'nosuch'), 404, `Cannot remove host nosuch in aggregate ${id}`);
      expectFault(await act(id, { remove_host: { host: '' } }), 400, /should be non-empty/);
      await drop(id);
      await drop(second);
    });

    it('keeps a host in one zone: joining an aggregate of another zone is 409', async () => {
      const a = await newAggregate('zone-a', 'az-a');
      const b = await newAggregate('zone-b', 'az-b');
      const same = await newAggregate('zone-a-too', 'az-a');
      const none = await newAggregate('zone-none');
      assert.equal((await addHost(a, 'compute1')).status, 200);
      expectFault(await addHost(b, 'compute1'), 409, `Cannot add host to aggregate ${b}. Reason: One or more hosts already in availability zone(s) ['az-a'].`);
      assert.equal((await addHost(same, 'compute1')).status, 200);
      assert.equal((await addHost(none, 'compute1')).status, 200);
      // Giving the zone-less aggregate another zone would put compute1 in two.
      expectFault(await setMeta(none, { availability_zone: 'az-b' }), 400, `Cannot update metadata of aggregate ${none}. Reason: One or more hosts already in availability zone(s) ['az-a', 'az-a'].`);
      expectFault(await update(none, { availability_zone: 'az-b' }), 400, `Cannot update aggregate ${none}. Reason: One or more hosts already in availability zone(s) ['az-a', 'az-a'].`);
      // The same zone is fine.
      assert.equal((await setMeta(none, { availability_zone: 'az-a' })).status, 200);
      for (const id of [a, b, same, none]) await drop(id);
    });

    it('lets one of two racing joins into different zones win', async () => {
      const a = await newAggregate('race-a', 'az-ra');
      const b = await newAggregate('race-b', 'az-rb');
      const [x, y] = await Promise.all([addHost(a, 'compute2'), addHost(b, 'compute2')]);
      assert.deepEqual([x.status, y.status].sort(), [200, 409]);
      const zones = await zoneDetail();
      assert.equal((zones.get('az-ra') ?? zones.get('az-rb'))?.join(), 'compute2');
      await drop(a);
      await drop(b);
    });

    it('refuses to change the zone of a host that runs servers', async () => {
      const server = await boot(cloud, { as: 'admin', extra: { availability_zone: 'az3' } });
      const shown = (await cloud.request({ url: `${V}/servers/${server}`, as: 'admin' })).body.server;
      assert.equal(shown['OS-EXT-SRV-ATTR:host'], 'compute3');
      const id = await newAggregate('busy', 'az-busy');
      expectFault(
        await addHost(id, 'compute3'),
        409,
        `Cannot add host to aggregate ${id}. Reason: The host cannot be added to the aggregate as the availability zone of the host would change from 'None' to 'az-busy' but the host already has 1 instance(s). ${MOVE_TAIL}`,
      );
      // Without a zone the aggregate takes the host; then the aggregate's zone may not be given.
      const plain = await newAggregate('busy-plain');
      assert.equal((await addHost(plain, 'compute3')).status, 200);
      expectFault(await setMeta(plain, { availability_zone: 'az-x' }), 400, `Cannot update metadata of aggregate ${plain}. Reason: One or more hosts contain instances in this zone.`);
      expectFault(await update(plain, { availability_zone: 'az-x' }), 400, `Cannot update aggregate ${plain}. Reason: One or more hosts contain instances in this zone.`);
      // Other metadata is fine.
      const meta = await setMeta(plain, { ssd: 'true' });
      assert.equal(meta.status, 200);
      assert.deepEqual(meta.body.aggregate.metadata, { ssd: 'true' });
      assert.equal((await removeHost(plain, 'compute3')).status, 200);

      // A host that got its zone from an aggregate keeps it while it runs servers.
      await deleteServer(server);
      assert.equal((await addHost(id, 'compute3')).status, 200);
      const inZone = await boot(cloud, { as: 'admin', extra: { availability_zone: 'az-busy' } });
      expectFault(
        await removeHost(id, 'compute3'),
        409,
        `Cannot remove host from aggregate ${id}. Reason: The host cannot be removed from the aggregate as the availability zone of the host would change from 'az-busy' to 'None' but the host already has 1 instance(s). ${MOVE_TAIL}`,
      );
      // Renaming the zone of the aggregate would move the server too.
      expectFault(await update(id, { availability_zone: 'az-other' }), 400, `Cannot update aggregate ${id}. Reason: One or more hosts contain instances in this zone.`);
      // Setting the zone it has is no move.
      assert.equal((await update(id, { availability_zone: 'az-busy' })).status, 200);
      await deleteServer(inZone);
      await drop(id);
      await drop(plain);
    });
  });

  describe('set_metadata', () => {
    it('sets, replaces and removes keys (null removes)', async () => {
      const id = await newAggregate('meta', 'az-m');
      const res = await setMeta(id, { ssd: 'true', 'gpu.count': '2' }, '2.41');
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(res.body.aggregate.metadata, { availability_zone: 'az-m', ssd: 'true', 'gpu.count': '2' });
      assert.match(res.body.aggregate.updated_at, MICRO);
      assert.match(res.body.aggregate.uuid, /^[0-9a-f-]{36}$/);
      const next = await setMeta(id, { ssd: 'false', 'gpu.count': null, missing: null });
      assert.deepEqual(next.body.aggregate.metadata, { availability_zone: 'az-m', ssd: 'false' });
      assert.deepEqual((await show(id)).body.aggregate.metadata, { availability_zone: 'az-m', ssd: 'false' });
      // The zone is metadata: setting it renames the zone.
      const rezoned = await setMeta(id, { availability_zone: 'az-n' });
      assert.equal(rezoned.body.aggregate.availability_zone, 'az-n');
      // Removing it is refused, as in Nova.
      expectFault(await setMeta(id, { availability_zone: null }), 400, `Cannot update metadata of aggregate ${id}. Reason: Aggregate meta does not support empty named availability zone.`);
      expectFault(await setMeta(id, { availability_zone: '' }), 400, `Cannot update metadata of aggregate ${id}. Reason: Aggregate meta does not support empty named availability zone.`);
      assert.equal((await setMeta(id, {})).status, 200);
      expectFault(await setMeta(id, { 'bad/key': 'x' }), 400, "Additional properties are not allowed ('bad/key' was unexpected)");
      expectFault(await setMeta(id, { k: 'v'.repeat(256) }), 400, /is too long$/);
      expectFault(await setMeta(id, { k: 1 }), 400, "Invalid input for field/attribute k. Value: 1. 1 is not of type 'string', 'null'");
      expectFault(await setMeta(id, 'x'), 400, "Invalid input for field/attribute metadata. Value: x. 'x' is not of type 'object'");
      expectFault(await act(id, { set_metadata: {} }), 400, "'metadata' is a required property");
      await drop(id);
    });
  });

  describe('the action dispatch', () => {
    it('wants exactly one known action', async () => {
      const id = await newAggregate('dispatch');
      expectFault(await act(id, { add_host: { host: 'compute1' }, remove_host: { host: 'compute1' } }), 400, 'Malformed request body');
      expectFault(await act(id, {}), 400, 'Malformed request body');
      expectFault(await act(id, []), 400, 'Malformed request body');
      expectFault(await act(id, { reboot: null }), 400, 'There is no such action: reboot');
      expectFault(await act(id, { add_host: null }), 400, "Invalid input for field/attribute add_host. Value: None. None is not of type 'object'");
      await drop(id);
    });
  });

  describe('images (2.81)', () => {
    it('accepts a cache request for existing images, validates the rest', async () => {
      const id = await newAggregate('cache');
      const image = await cirrosId(cloud);
      const post = (body: unknown, version = '2.81', agg: number | string = id) => cloud.request({ method: 'POST', url: `${URL}/${agg}/images`, as: 'admin', version, body });
      assert.equal((await post({ cache: [{ id: image }] }, '2.80')).status, 404);
      const ok = await post({ cache: [{ id: image }] });
      assert.equal(ok.status, 202, ok.text);
      assert.equal(ok.text, '');
      expectFault(await post({ cache: [{ id: image }, { id: image }] }), 400, 'Duplicate images in request');
      const unknown = randomUUID();
      expectFault(await post({ cache: [{ id: unknown }] }), 400, `Image ${unknown} could not be found.`);
      expectFault(await post({ cache: [] }), 400, /is too short$/);
      expectFault(await post({ cache: [{ id: 'not-a-uuid' }] }), 400, /is not a 'uuid'$/);
      expectFault(await post({ cache: [{ id: image, x: 1 }] }), 400, "Additional properties are not allowed ('x' was unexpected)");
      expectFault(await post({}), 400, "'cache' is a required property");
      expectFault(await post({ cache: [{ id: image }] }, '2.81', 999), 404, 'Aggregate 999 could not be found.');
      expectFault(await post({ cache: [{ id: image }] }, '2.81', 'x'), 400, 'Invalid input received: id must be an integer');
      await drop(id);
    });
  });

  describe('availability zones', () => {
    it("an aggregate's zone is the zone of its hosts; leaving it restores the configured zone", async () => {
      const before = await zoneDetail();
      assert.deepEqual(before.get('nova'), ['compute1', 'compute2']);
      assert.deepEqual(before.get('az3'), ['compute3']);
      expectFault(
        await cloud.request({ method: 'POST', url: `${V}/servers`, as: 'demo', body: { server: { name: 'x', flavorRef: '1', imageRef: await cirrosId(cloud), availability_zone: 'az9' } } }),
        400,
        'The requested availability zone is not available',
      );

      const id = await newAggregate('agg-az9');
      assert.equal((await addHost(id, 'compute2')).status, 200);
      // No zone yet: compute2 stays in its configured zone.
      assert.deepEqual((await zoneDetail()).get('nova'), ['compute1', 'compute2']);
      const set = await setMeta(id, { availability_zone: 'az9' });
      assert.equal(set.status, 200);
      assert.equal(set.body.aggregate.availability_zone, 'az9');

      const during = await zoneDetail();
      assert.deepEqual(during.get('az9'), ['compute2']);
      assert.deepEqual(during.get('nova'), ['compute1']);
      assert.deepEqual(during.get('az3'), ['compute3']);
      assert.equal(await serviceZone('compute2'), 'az9');
      const summary = await cloud.request({ url: `${V}/os-availability-zone`, as: 'demo' });
      assert.deepEqual((summary.body.availabilityZoneInfo as { zoneName: string }[]).map((z) => z.zoneName), ['az3', 'az9', 'nova']);

      // A server that asks for az9 lands on compute2 and shows the zone.
      const server = await boot(cloud, { as: 'demo', extra: { availability_zone: 'az9' } });
      const shown = (await cloud.request({ url: `${V}/servers/${server}`, as: 'admin' })).body.server;
      assert.equal(shown.status, 'ACTIVE');
      assert.equal(shown['OS-EXT-SRV-ATTR:host'], 'compute2');
      assert.equal(shown['OS-EXT-AZ:availability_zone'], 'az9');
      await deleteServer(server);

      // Leaving the aggregate restores the configured zone.
      assert.equal((await removeHost(id, 'compute2')).status, 200);
      const afterRemove = await zoneDetail();
      assert.equal(afterRemove.get('az9'), undefined);
      assert.deepEqual(afterRemove.get('nova'), ['compute1', 'compute2']);
      assert.equal(await serviceZone('compute2'), 'nova');

      // A host whose configuration names a zone takes the aggregate's zone as well, and gets its own back.
      assert.equal((await addHost(id, 'compute3')).status, 200);
      assert.deepEqual((await zoneDetail()).get('az9'), ['compute3']);
      assert.equal((await zoneDetail()).get('az3'), undefined);
      const onThree = await boot(cloud, { as: 'demo', extra: { availability_zone: 'az9' } });
      assert.equal((await cloud.request({ url: `${V}/servers/${onThree}`, as: 'admin' })).body.server['OS-EXT-SRV-ATTR:host'], 'compute3');
      await deleteServer(onThree);
      // Renaming the zone of an aggregate without servers on its hosts moves the hosts with it.
      assert.equal((await update(id, { availability_zone: 'az10' })).status, 200);
      assert.deepEqual((await zoneDetail()).get('az10'), ['compute3']);
      assert.equal((await removeHost(id, 'compute3')).status, 200);
      assert.deepEqual((await zoneDetail()).get('az3'), ['compute3']);
      await drop(id);
      expectFault(
        await cloud.request({ method: 'POST', url: `${V}/servers`, as: 'demo', body: { server: { name: 'x', flavorRef: '1', imageRef: await cirrosId(cloud), availability_zone: 'az9' } } }),
        400,
        'The requested availability zone is not available',
      );
    });
  });
});

describe('os-aggregates across a restart', () => {
  it('keeps aggregates, their hosts and the zones they give', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stratus-aggregates-'));
    const dbPath = join(dir, 'stratus.db');
    const config = { compute: { hosts: HOSTS } };
    try {
      const first = await startTestCloud(config, { dbPath });
      let id: number;
      try {
        const res = await first.request({ method: 'POST', url: URL, as: 'admin', body: { aggregate: { name: 'kept', availability_zone: 'az7' } } });
        id = res.body.aggregate.id as number;
        assert.equal((await first.request({ method: 'POST', url: `${URL}/${id}/action`, as: 'admin', body: { add_host: { host: 'compute1' } } })).status, 200);
      } finally {
        await first.close();
      }
      const second = await startTestCloud(config, { dbPath });
      try {
        const shown = await second.request({ url: `${URL}/${id}`, as: 'admin' });
        assert.equal(shown.status, 200);
        assert.deepEqual(shown.body.aggregate.hosts, ['compute1']);
        assert.deepEqual(shown.body.aggregate.metadata, { availability_zone: 'az7' });
        const detail = await second.request({ url: `${V}/os-availability-zone/detail`, as: 'admin' });
        const az7 = (detail.body.availabilityZoneInfo as { zoneName: string; hosts: Record<string, unknown> | null }[]).find((z) => z.zoneName === 'az7');
        assert.deepEqual(Object.keys(az7?.hosts ?? {}), ['compute1']);
        const server = await second.request({
          method: 'POST',
          url: `${V}/servers`,
          as: 'demo',
          body: { server: { name: 'x', flavorRef: '1', imageRef: await cirrosId(second), availability_zone: 'az7' } },
        });
        assert.equal(server.status, 202, server.text);
        await second.settle();
        const s = (await second.request({ url: `${V}/servers/${server.body.server.id as string}`, as: 'admin' })).body.server;
        assert.equal(s['OS-EXT-SRV-ATTR:host'], 'compute1');
      } finally {
        await second.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
