import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestCloud, type TestCloud } from '../../helpers/cloud.js';
import { boot } from '../../helpers/servers.js';
import { assertLedger } from '../../helpers/ledger.js';

type Who = 'demo' | 'admin' | 'alt_demo';
type Json = Record<string, unknown>;

/**
 * Three hosts: h1 and h2 share instance storage (group "nfs"), h3 has its
 * own disks; h4 has an older CPU than the others and is disabled unless a
 * test enables it.
 */
const HOSTS = {
  hosts: [
    { name: 'h1', shared_storage: 'nfs', cpu_model: 'Haswell', cpu_features: ['avx2'] },
    { name: 'h2', shared_storage: 'nfs', cpu_model: 'Haswell', cpu_features: ['avx2'] },
    { name: 'h3', cpu_model: 'Skylake-Server', cpu_features: ['avx2', 'avx512f'] },
  ],
};

function kit(get: () => TestCloud) {
  const act = (id: string, body: unknown, as: Who = 'admin', version = '2.34') =>
    get().request({ method: 'POST', url: `/compute/v2.1/servers/${id}/action`, as, body, version });
  const live = (id: string, o: Json = {}, version = '2.34', as: Who = 'admin') =>
    act(id, { 'os-migrateLive': { host: null, block_migration: 'auto', ...o } }, as, version);
  const show = async (id: string): Promise<Json> => (await get().request({ url: `/compute/v2.1/servers/${id}`, as: 'admin', version: '2.47' })).body.server as Json;
  const hostOf = async (id: string) => (await show(id))['OS-EXT-SRV-ATTR:host'] as string;
  const migrations = async (id: string): Promise<Json[]> =>
    (await get().request({ url: `/compute/v2.1/os-migrations?instance_uuid=${id}`, as: 'admin', version: '2.80' })).body.migrations as Json[];
  const actions = async (id: string): Promise<Json[]> =>
    (await get().request({ url: `/compute/v2.1/servers/${id}/os-instance-actions`, as: 'admin', version: '2.84' })).body.instanceActions as Json[];
  const events = async (id: string, requestId: string): Promise<Json[]> =>
    (await get().request({ url: `/compute/v2.1/servers/${id}/os-instance-actions/${requestId}`, as: 'admin', version: '2.84' })).body.instanceAction.events as Json[];
  const bootOn = async (host: string, o: Json = {}) => {
    const id = await boot(get(), { as: 'admin', version: '2.74', extra: { host, networks: 'auto', ...o } });
    await get().settle();
    assert.equal(await hostOf(id), host);
    return id;
  };
  return { act, live, show, hostOf, migrations, actions, events, bootOn };
}

describe('action: os-migrateLive', () => {
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
  const { act, live, show, hostOf, migrations, actions, events, bootOn } = kit(() => cloud);

  it('moves a server to a host the scheduler picks (auto: block migration or not, by shared storage)', async () => {
    const id = await bootOn('h1');
    const res = await live(id, {}, '2.25');
    assert.equal(res.status, 202);
    assert.equal(res.text, '');
    await cloud.settle();
    const s = await show(id);
    assert.equal(s.status, 'ACTIVE');
    assert.equal(s['OS-EXT-STS:task_state'], null);
    assert.notEqual(s['OS-EXT-SRV-ATTR:host'], 'h1');
    const [m] = await migrations(id);
    assert.equal(m?.status, 'completed');
    assert.equal(m?.migration_type, 'live-migration');
    assert.equal(m?.dest_compute, s['OS-EXT-SRV-ATTR:host']);
    // From h3 (the newest CPU) no other host can take the guest.
    const newer = await bootOn('h3');
    const none = await live(newer, {}, '2.25');
    assert.equal(none.status, 400);
    assert.equal(none.body.badRequest.message, 'No valid host was found. There are not enough hosts available.');
    assert.equal(await hostOf(newer), 'h3');
  });

  it('block-migrates from a host without shared storage to a newer CPU; memory and disk bytes on the migration', async () => {
    const id = await bootOn('h1');
    const res = await live(id, { host: 'h3' }, '2.30');
    assert.equal(res.status, 202);
    await cloud.settle();
    const s = await show(id);
    assert.equal(s.status, 'ACTIVE');
    assert.equal(s['OS-EXT-SRV-ATTR:host'], 'h3');
    const [m] = await migrations(id);
    assert.equal(m?.status, 'completed');
    assert.equal(m?.source_compute, 'h1');
    assert.equal(m?.dest_compute, 'h3');
    const row = await cloud.db.selectFrom('migrations').selectAll().where('uuid', '=', String(m?.uuid)).executeTakeFirstOrThrow();
    assert.equal(row.memory_total, 512 * 1024 * 1024);
    assert.equal(row.memory_remaining, 0);
    assert.equal(row.disk_total, 1024 ** 3);
    const [a] = await actions(id);
    assert.equal(a?.action, 'live-migration');
    const names = (await events(id, String(a?.request_id))).map((e) => `${String(e.event)}:${String(e.result)}`).sort();
    assert.deepEqual(names, [
      'compute_check_can_live_migrate_destination:Success',
      'compute_check_can_live_migrate_source:Success',
      'compute_live_migration:Success',
      'compute_post_live_migration_at_destination:Success',
      'compute_pre_live_migration:Success',
      'conductor_live_migrate_instance:Success',
    ]);
    assert.deepEqual((await cloud.compute.drivers.get('h1')?.listGuests())?.includes(id), false);
    assert.deepEqual((await cloud.compute.drivers.get('h3')?.listGuests())?.includes(id), true);
  });

  it('between hosts sharing storage: auto and false copy no disk; true fails the pre-checks (400 below 2.34, ACTIVE and a failed action from 2.34)', async () => {
    const id = await bootOn('h1');
    assert.equal((await live(id, { host: 'h2', block_migration: false }, '2.30')).status, 202);
    await cloud.settle();
    assert.equal(await hostOf(id), 'h2');
    const done = (await migrations(id))[0];
    const row = await cloud.db.selectFrom('migrations').selectAll().where('uuid', '=', String(done?.uuid)).executeTakeFirstOrThrow();
    assert.equal(row.disk_total, 0);

    const sync = await live(id, { host: 'h1', block_migration: true }, '2.29');
    assert.equal(sync.status, 400);
    assert.equal(
      sync.body.badRequest.message,
      'Migration pre-check error: Error while check_can_live_migrate_source from h2 to host h1: InvalidLocalStorage_Remote h2 is not on local storage: Block migration can not be used with shared storage.',
    );
    let s = await show(id);
    assert.equal(s.status, 'ACTIVE');
    assert.equal(s['OS-EXT-SRV-ATTR:host'], 'h2');

    const async = await live(id, { host: 'h1', block_migration: true, force: true }, '2.34');
    assert.equal(async.status, 202);
    assert.equal((await show(id)).status, 'MIGRATING');
    await cloud.settle();
    s = await show(id);
    assert.equal(s.status, 'ACTIVE');
    assert.equal(s['OS-EXT-STS:task_state'], null);
    assert.equal(s['OS-EXT-SRV-ATTR:host'], 'h2');
    assert.equal((await migrations(id))[0]?.status, 'error');
    const [a] = await actions(id);
    assert.equal(a?.action, 'live-migration');
    const evs = await events(id, String(a?.request_id));
    const conductor = evs.find((e) => e.event === 'conductor_live_migrate_instance');
    assert.equal(conductor?.result, 'Error');
    assert.match(String(conductor?.traceback), /Block migration can not be used with shared storage/);

    assert.equal((await live(id, { host: 'h1' }, '2.68')).status, 202);
    await cloud.settle();
    assert.equal(await hostOf(id), 'h1');
  });

  it('without shared storage a non-block migration fails the pre-checks', async () => {
    const id = await bootOn('h1');
    const res = await live(id, { host: 'h3', block_migration: false, disk_over_commit: false }, '2.1');
    assert.equal(res.status, 400);
    assert.equal(
      res.body.badRequest.message,
      'Migration pre-check error: Error while check_can_live_migrate_source from h1 to host h3: InvalidSharedStorage_Remote h1 is not on shared storage: Shared storage live-migration requires either shared storage or boot-from-volume with no local disks.',
    );
    assert.equal((await show(id)).status, 'ACTIVE');
  });

  it('an older CPU fails the pre-checks; a forced host is refused, the scheduler skips it', async () => {
    const id = await bootOn('h3');
    const forced = await live(id, { host: 'h1', force: true, block_migration: true }, '2.30');
    assert.equal(forced.status, 400);
    assert.match(forced.body.badRequest.message, /^Unacceptable CPU info: CPU doesn't have compatibility\./);
    // Not forced: the requested host goes through the scheduler and the checks; none passes.
    const hinted = await live(id, { host: 'h1', block_migration: true }, '2.30');
    assert.equal(hinted.status, 400);
    assert.equal(hinted.body.badRequest.message, 'No valid host was found. There are not enough hosts available.');
    const s = await show(id);
    assert.equal(s.status, 'ACTIVE');
    assert.equal(s['OS-EXT-SRV-ATTR:host'], 'h3');
  });

  it('refuses a move to the same host and to a host that is down', async () => {
    const id = await bootOn('h1');
    const self = await live(id, { host: 'h1', block_migration: false }, '2.29');
    assert.equal(self.status, 400);
    assert.equal(self.body.badRequest.message, `Unable to migrate instance (${id}) to current host (h1).`);
    cloud.compute.heartbeat.pause('h2');
    await cloud.clock.advance(120_000);
    const down = await live(id, { host: 'h2', block_migration: false }, '2.29');
    assert.equal(down.status, 400);
    assert.equal(down.body.badRequest.message, 'Compute service of h2 is unavailable at this time.');
    cloud.compute.heartbeat.resume('h2');
    await cloud.compute.heartbeat.tick();
    for (const s of [id]) await cloud.request({ method: 'DELETE', url: `/compute/v2.1/servers/${s}`, as: 'admin' });
    await cloud.settle();
  });

  it('validates the body per microversion and checks state, lock and policy', async () => {
    const id = await bootOn('h1');
    assert.equal((await live(id, { block_migration: 'auto' }, '2.24')).status, 400);
    assert.equal((await live(id, { disk_over_commit: false }, '2.25')).status, 400);
    assert.equal((await live(id, { force: true }, '2.68')).status, 400);
    const noHost = await live(id, { force: true }, '2.30');
    assert.equal(noHost.status, 400);
    assert.equal(noHost.body.badRequest.message, "Can't force to a non-provided destination");
    const unknown = await live(id, { host: 'nowhere' }, '2.30');
    assert.equal(unknown.status, 400);
    assert.equal(unknown.body.badRequest.message, 'Compute host nowhere could not be found.');
    const mine = await boot(cloud);
    const member = await live(mine, {}, '2.34', 'demo');
    assert.equal(member.status, 403);
    assert.equal(member.body.forbidden.message, "Policy doesn't allow os_compute_api:os-migrate-server:migrate_live to be performed.");
    assert.equal((await live(mine, {}, '2.34', 'alt_demo')).status, 404);
    await cloud.request({ method: 'DELETE', url: `/compute/v2.1/servers/${mine}` });
    assert.equal((await act(id, { 'os-stop': null })).status, 202);
    await cloud.settle();
    const stopped = await live(id, {}, '2.34');
    assert.equal(stopped.status, 409);
    assert.equal(stopped.body.conflictingRequest.message, `Cannot 'os-migrateLive' instance ${id} while it is in vm_state stopped`);
    await cloud.request({ method: 'DELETE', url: `/compute/v2.1/servers/${id}`, as: 'admin' });
    await cloud.settle();
  });

  it('a driver failure at each step leaves the server where Nova would', async () => {
    const cases: { op: 'checkLiveMigrationDestination' | 'preLiveMigration' | 'liveMigrate' | 'postLiveMigrationAtDestination'; on: 'h1' | 'h3' }[] = [
      { op: 'checkLiveMigrationDestination', on: 'h3' },
      { op: 'preLiveMigration', on: 'h3' },
      { op: 'liveMigrate', on: 'h1' },
      { op: 'postLiveMigrationAtDestination', on: 'h3' },
    ];
    for (const c of cases) {
      const id = await bootOn('h1');
      cloud.compute.drivers.get(c.on)?.failNext(c.op, { uuid: id, message: `boom in ${c.op}` });
      assert.equal((await live(id, { host: 'h3', block_migration: true }, '2.34')).status, 202, c.op);
      await cloud.settle();
      const s = await show(id);
      const [m] = await migrations(id);
      assert.equal(s['OS-EXT-STS:task_state'], null, c.op);
      if (c.op === 'postLiveMigrationAtDestination') {
        assert.equal(s.status, 'ERROR', c.op);
        assert.equal(s['OS-EXT-SRV-ATTR:host'], 'h3', c.op);
        assert.equal((s.fault as Json).message, `boom in ${c.op}`);
        assert.equal(m?.status, 'error', c.op);
      } else {
        assert.equal(s.status, 'ACTIVE', c.op);
        assert.equal(s['OS-EXT-SRV-ATTR:host'], 'h1', c.op);
        assert.equal(m?.status, 'error', c.op);
        assert.deepEqual((await cloud.compute.drivers.get('h1')?.listGuests())?.includes(id), true, c.op);
        assert.deepEqual((await cloud.compute.drivers.get('h3')?.listGuests())?.includes(id), false, c.op);
      }
      const [a] = await actions(id);
      const failed = (await events(id, String(a?.request_id))).filter((e) => e.result === 'Error').map((e) => e.event);
      assert.ok(failed.length > 0, `${c.op}: a failed event`);
      await cloud.request({ method: 'DELETE', url: `/compute/v2.1/servers/${id}`, as: 'admin' });
      await cloud.settle();
    }
  });
});

describe('os-migrateLive: a forced destination without memory', () => {
  let cloud: TestCloud;
  before(async () => {
    cloud = await startTestCloud({ compute: { hosts: [{ name: 'hA', memory_mb: 4096, shared_storage: 's' }, { name: 'hB', memory_mb: 4096, shared_storage: 's' }] } });
  });
  after(async () => {
    await cloud.close();
  });
  afterEach(async (t) => {
    await cloud.settle();
    await assertLedger(cloud, { label: t.name });
  });
  const { live, bootOn, show } = kit(() => cloud);

  it('is refused with Nova\'s pre-check message (the RAM filter\'s arithmetic)', async () => {
    await bootOn('hB', { flavorRef: '3' });
    const id = await bootOn('hA', { flavorRef: '2' });
    const res = await live(id, { host: 'hB', block_migration: false }, '2.29');
    assert.equal(res.status, 400);
    assert.equal(res.body.badRequest.message, `Migration pre-check error: Unable to migrate ${id} to hB: Lack of memory(host:0 <= instance:2048)`);
    assert.equal((await show(id))['OS-EXT-SRV-ATTR:host'], 'hA');
  });
});

describe('live migration in progress: MIGRATING, progress, force_complete and abort', () => {
  let cloud: TestCloud;
  before(async () => {
    cloud = await startTestCloud({ compute: { ...HOSTS, timing: 'visible', step_ms: 1000 } });
  });
  after(async () => {
    await cloud.close();
  });
  afterEach(async (t) => {
    await cloud.settle();
    await assertLedger(cloud, { label: t.name });
  });
  const { live, act, show, migrations, actions, events, bootOn } = kit(() => cloud);
  const running = (id: string) => async () => (await migrations(id))[0]?.status === 'running';
  const serverMigrations = async (id: string, version = '2.80') => cloud.request({ url: `/compute/v2.1/servers/${id}/migrations`, as: 'admin', version });

  it('shows MIGRATING and the running migration with its bytes; a paused server stays paused on the destination', async () => {
    const id = await bootOn('h1');
    assert.equal((await act(id, { pause: null })).status, 202);
    await cloud.settle();
    assert.equal((await live(id, { host: 'h2', block_migration: false })).status, 202);
    await cloud.stepUntil(running(id));
    const s = await show(id);
    assert.equal(s.status, 'MIGRATING');
    assert.equal(s['OS-EXT-STS:task_state'], 'migrating');
    assert.equal(s['OS-EXT-STS:vm_state'], 'paused');
    await cloud.stepUntil(async () => ((await serverMigrations(id)).body.migrations[0]?.memory_processed_bytes ?? 0) > 0);
    const list = await serverMigrations(id);
    assert.equal(list.status, 200);
    const m = list.body.migrations[0] as Json;
    assert.equal(m.status, 'running');
    assert.equal(m.server_uuid, id);
    assert.equal(m.source_compute, 'h1');
    assert.equal(m.dest_compute, 'h2');
    assert.equal(m.memory_total_bytes, 512 * 1024 * 1024);
    assert.equal(m.disk_total_bytes, 0);
    assert.equal(Number(m.memory_processed_bytes) + Number(m.memory_remaining_bytes), 512 * 1024 * 1024);
    assert.ok(typeof m.uuid === 'string' && 'user_id' in m && 'project_id' in m);
    const shown = await cloud.request({ url: `/compute/v2.1/servers/${id}/migrations/${String(m.id)}`, as: 'admin', version: '2.23' });
    assert.equal(shown.status, 200);
    assert.equal(shown.body.migration.id, m.id);
    assert.equal('uuid' in shown.body.migration, false);
    const osm = (await cloud.request({ url: `/compute/v2.1/os-migrations?instance_uuid=${id}`, as: 'admin', version: '2.23' })).body.migrations[0] as Json;
    assert.equal((osm.links as Json[]).length, 2);
    await cloud.settle();
    const after = await show(id);
    assert.equal(after.status, 'PAUSED');
    assert.equal(after['OS-EXT-SRV-ATTR:host'], 'h2');
    assert.deepEqual((await serverMigrations(id)).body.migrations, []);
    const gone = await cloud.request({ url: `/compute/v2.1/servers/${id}/migrations/${String(m.id)}`, as: 'admin', version: '2.23' });
    assert.equal(gone.status, 404);
    assert.equal(gone.body.itemNotFound.message, `Live migration ${String(m.id)} for server ${id} is not in progress.`);
  });

  it('force_complete (2.22) finishes a running migration at once', async () => {
    const id = await bootOn('h1');
    assert.equal((await live(id, { host: 'h2', block_migration: false })).status, 202);
    await cloud.stepUntil(running(id));
    const m = (await migrations(id))[0] as Json;
    const url = `/compute/v2.1/servers/${id}/migrations/${String(m.id)}/action`;
    assert.equal((await cloud.request({ method: 'POST', url, as: 'admin', version: '2.21', body: { force_complete: null } })).status, 404);
    const res = await cloud.request({ method: 'POST', url, as: 'admin', version: '2.22', body: { force_complete: null } });
    assert.equal(res.status, 202);
    await cloud.settle();
    assert.equal((await show(id))['OS-EXT-SRV-ATTR:host'], 'h2');
    assert.equal((await migrations(id))[0]?.status, 'completed');
    const acts = (await actions(id)).map((a) => a.action);
    assert.deepEqual(acts.slice(0, 2), ['live_migration_force_complete', 'live-migration']);
    const fc = (await actions(id))[0] as Json;
    assert.deepEqual((await events(id, String(fc.request_id))).map((e) => [e.event, e.result]), [['compute_live_migration_force_complete', 'Success']]);
    const late = await cloud.request({ method: 'POST', url, as: 'admin', version: '2.22', body: { force_complete: null } });
    assert.equal(late.status, 409);
    assert.equal(late.body.conflictingRequest.message, `Cannot 'force_complete' instance ${id} while it is in task_state None`);
  });

  it('abort (2.24) puts the server back on the source; queued ones only from 2.65', async () => {
    const id = await bootOn('h1');
    assert.equal((await live(id, { host: 'h2', block_migration: false })).status, 202);
    await cloud.stepUntil(async () => (await migrations(id))[0]?.status === 'queued');
    const m = (await migrations(id))[0] as Json;
    const url = `/compute/v2.1/servers/${id}/migrations/${String(m.id)}`;
    const early = await cloud.request({ method: 'DELETE', url, as: 'admin', version: '2.24' });
    assert.equal(early.status, 400);
    assert.equal(early.body.badRequest.message, `Migration ${String(m.id)} state of instance ${id} is queued. Cannot abort live migration while the migration is in this state.`);
    await cloud.stepUntil(running(id));
    assert.equal((await cloud.request({ method: 'DELETE', url: `/compute/v2.1/servers/${id}/migrations/999999`, as: 'admin', version: '2.24' })).status, 404);
    const res = await cloud.request({ method: 'DELETE', url, as: 'admin', version: '2.24' });
    assert.equal(res.status, 202);
    await cloud.settle();
    const s = await show(id);
    assert.equal(s.status, 'ACTIVE');
    assert.equal(s['OS-EXT-SRV-ATTR:host'], 'h1');
    assert.equal((await migrations(id))[0]?.status, 'cancelled');
    assert.deepEqual((await cloud.compute.drivers.get('h2')?.listGuests())?.includes(id), false);
    assert.equal((await actions(id))[0]?.action, 'live_migration_cancel');

    assert.equal((await live(id, { host: 'h2', block_migration: false })).status, 202);
    await cloud.stepUntil(async () => (await migrations(id))[0]?.status === 'queued');
    const q = (await migrations(id))[0] as Json;
    const queued = await cloud.request({ method: 'DELETE', url: `/compute/v2.1/servers/${id}/migrations/${String(q.id)}`, as: 'admin', version: '2.65' });
    assert.equal(queued.status, 202);
    await cloud.settle();
    assert.equal((await show(id))['OS-EXT-SRV-ATTR:host'], 'h1');
    assert.equal((await migrations(id))[0]?.status, 'cancelled');
  });
});

describe('os-migrateLive: concurrent migrations competing for the last capacity', () => {
  let cloud: TestCloud;
  before(async () => {
    cloud = await startTestCloud({
      compute: { hosts: [{ name: 'hA', memory_mb: 8192, shared_storage: 's' }, { name: 'hB', memory_mb: 3072, shared_storage: 's' }] },
    });
  });
  after(async () => {
    await cloud.close();
  });
  const { live, show, migrations, bootOn } = kit(() => cloud);

  it('moves exactly as many as fit; the others stay ACTIVE where they were', async () => {
    const ids = [await bootOn('hA', { flavorRef: '2' }), await bootOn('hA', { flavorRef: '2' }), await bootOn('hA', { flavorRef: '2' })];
    const answers = await Promise.all(ids.map((id) => live(id, {}, '2.34')));
    assert.deepEqual(answers.map((a) => a.status), [202, 202, 202]);
    await cloud.settle();
    const hosts = await Promise.all(ids.map(async (id) => (await show(id))['OS-EXT-SRV-ATTR:host']));
    assert.equal(hosts.filter((h) => h === 'hB').length, 1, JSON.stringify(hosts));
    for (const id of ids) {
      const s = await show(id);
      assert.equal(s.status, 'ACTIVE');
      const [m] = await migrations(id);
      assert.equal(m?.status, s['OS-EXT-SRV-ATTR:host'] === 'hB' ? 'completed' : 'error');
    }
    const hv = (await cloud.request({ url: '/compute/v2.1/os-hypervisors/detail', as: 'admin', version: '2.87' })).body.hypervisors as Json[];
    for (const h of hv) assert.ok(Number(h.memory_mb_used) <= Number(h.memory_mb), `${String(h.hypervisor_hostname)} not over-committed`);
    await assertLedger(cloud, { label: 'concurrent live migrations' });
  });
});
