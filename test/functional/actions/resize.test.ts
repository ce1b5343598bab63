import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestCloud, type TestCloud } from '../../helpers/cloud.js';
import { boot } from '../../helpers/servers.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hostStates } from '../../../src/compute/host-states.js';
import { assertLedger } from '../../helpers/ledger.js';

type Who = 'demo' | 'admin' | 'alt_demo';

const HOSTS = { hosts: [{ name: 'h1' }, { name: 'h2' }] };

function helpers(get: () => TestCloud) {
  const act = (id: string, body: unknown, as: Who = 'demo', version?: string) =>
    get().request({ method: 'POST', url: `/compute/v2.1/servers/${id}/action`, as, body, ...(version ? { version } : {}) });
  const show = async (id: string) => (await get().request({ url: `/compute/v2.1/servers/${id}`, as: 'admin', version: '2.47' })).body.server;
  const migrations = async (id: string) =>
    (await get().request({ url: `/compute/v2.1/os-migrations?instance_uuid=${id}`, as: 'admin', version: '2.80' })).body.migrations as Record<string, unknown>[];
  /** Sum of the flavors of the servers and of the migrations' held shares per host equals what hostStates reports. */
  const usage = async () => {
    const c = get();
    const states = await hostStates(c.db, c.config, new Set());
    return Object.fromEntries(states.map((h) => [h.host, { vcpus: h.usedVcpus, ram: h.usedMemoryMb, disk: h.usedDiskGb }]));
  };
  return { act, show, migrations, usage };
}

describe('action: resize / confirmResize / revertResize', () => {
  let cloud: TestCloud;
  before(async () => {
    cloud = await startTestCloud({ compute: HOSTS });
  });
  after(async () => {
    await cloud.close();
  });
  const { act, show, migrations, usage } = helpers(() => cloud);

  it('resizes to another host, VERIFY_RESIZE holds both hosts, confirm frees the source', async () => {
    const id = await boot(cloud, { flavorRef: '1' });
    const src = (await show(id))['OS-EXT-SRV-ATTR:host'] as string;
    const dst = src === 'h1' ? 'h2' : 'h1';
    const res = await act(id, { resize: { flavorRef: '2' } });
    assert.equal(res.status, 202);
    assert.equal(res.text, '');
    const during = await show(id);
    assert.equal(during.status, 'RESIZE');
    assert.equal(during['OS-EXT-STS:task_state'], 'resize_prep');
    await cloud.settle();
    const resized = await show(id);
    assert.equal(resized.status, 'VERIFY_RESIZE');
    assert.equal(resized['OS-EXT-STS:vm_state'], 'resized');
    assert.equal(resized['OS-EXT-STS:task_state'], null);
    assert.equal(resized['OS-EXT-SRV-ATTR:host'], dst);
    assert.equal(resized.flavor.original_name, 'm1.small');
    let u = await usage();
    assert.deepEqual(u[src], { vcpus: 1, ram: 512, disk: 1 });
    assert.deepEqual(u[dst], { vcpus: 1, ram: 2048, disk: 20 });
    const [m] = await migrations(id);
    assert.ok(m);
    assert.equal(m.status, 'finished');
    assert.equal(m.migration_type, 'resize');
    assert.equal(m.source_compute, src);
    assert.equal(m.dest_compute, dst);
    // Nova's instance_type_id: the flavors' internal (integer) ids.
    assert.equal(typeof m.old_instance_type_id, 'number');
    assert.equal(typeof m.new_instance_type_id, 'number');
    assert.notEqual(m.old_instance_type_id, m.new_instance_type_id);
    assert.match(String(m.created_at), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/);
    assert.equal(cloud.compute.drivers.get(src)?.listGuests !== undefined, true);
    assert.deepEqual(await cloud.compute.drivers.get(dst)?.listGuests(), [id]);
    const conf = await act(id, { confirmResize: null });
    assert.equal(conf.status, 204);
    await cloud.settle();
    const done = await show(id);
    assert.equal(done.status, 'ACTIVE');
    assert.equal((await migrations(id))[0]?.status, 'confirmed');
    u = await usage();
    assert.deepEqual(u[src], { vcpus: 0, ram: 0, disk: 0 });
    assert.deepEqual(u[dst], { vcpus: 1, ram: 2048, disk: 20 });
    const again = await act(id, { confirmResize: null });
    assert.equal(again.status, 409);
    assert.equal(again.body.conflictingRequest.message, `Cannot 'confirmResize' instance ${id} while it is in vm_state active`);
    await act(id, { resize: { flavorRef: '1' } });
    await cloud.settle();
    assert.equal((await act(id, { confirmResize: null })).status, 204);
    await cloud.settle();
    const events = (await cloud.request({ url: `/compute/v2.1/servers/${id}/os-instance-actions`, as: 'admin' })).body.instanceActions as { action: string }[];
    assert.ok(events.some((e) => e.action === 'resize'));
    assert.ok(events.some((e) => e.action === 'confirmResize'));
    await cloud.request({ method: 'DELETE', url: `/compute/v2.1/servers/${id}` });
    await cloud.settle();
    await assertLedger(cloud);
  });

  it('reverts a stopped server back to its source, old flavor, SHUTOFF', async () => {
    const id = await boot(cloud, { flavorRef: '1' });
    const src = (await show(id))['OS-EXT-SRV-ATTR:host'] as string;
    assert.equal((await act(id, { 'os-stop': null })).status, 202);
    await cloud.settle();
    assert.equal((await act(id, { resize: { flavorRef: '3', 'OS-DCF:diskConfig': 'AUTO' } })).status, 202);
    await cloud.settle();
    const resized = await show(id);
    assert.equal(resized.status, 'VERIFY_RESIZE');
    assert.equal(resized['OS-EXT-STS:power_state'], 4);
    const rev = await act(id, { revertResize: null });
    assert.equal(rev.status, 202);
    assert.equal((await show(id)).status, 'REVERT_RESIZE');
    await cloud.settle();
    const back = await show(id);
    assert.equal(back.status, 'SHUTOFF');
    assert.equal(back['OS-EXT-SRV-ATTR:host'], src);
    assert.equal(back.flavor.original_name, 'm1.tiny');
    assert.equal((await migrations(id))[0]?.status, 'reverted');
    const u = await usage();
    assert.equal(Object.values(u).reduce((a, h) => a + h.vcpus, 0), 1);
    assert.deepEqual(u[src], { vcpus: 1, ram: 512, disk: 1 });
    const nores = await act(id, { revertResize: null });
    assert.equal(nores.status, 409);
    await cloud.request({ method: 'DELETE', url: `/compute/v2.1/servers/${id}` });
    await cloud.settle();
    await assertLedger(cloud);
  });

  it('refuses the same flavor, an unknown flavor and bad bodies with 400', async () => {
    const id = await boot(cloud, { flavorRef: '1' });
    const same = await act(id, { resize: { flavorRef: '1' } });
    assert.equal(same.status, 400);
    assert.equal(same.body.badRequest.message, 'When resizing, instances must change flavor!');
    const unknown = await act(id, { resize: { flavorRef: 'nope' } });
    assert.equal(unknown.status, 400);
    assert.equal(unknown.body.badRequest.message, 'Flavor nope could not be found.');
    for (const body of [{ resize: null }, { resize: {} }, { resize: { flavorRef: '2', extra: 1 } }, { resize: { flavorRef: '2', 'OS-DCF:diskConfig': 'X' } }]) {
      assert.equal((await act(id, body)).status, 400, JSON.stringify(body));
    }
    const noMig = await cloud.request({ method: 'POST', url: `/compute/v2.1/servers/${id}/action`, body: { confirmResize: null } });
    assert.equal(noMig.status, 409);
    assert.equal((await show(id)).status, 'ACTIVE');
    await assertLedger(cloud);
  });

  it('refuses a wrong vm_state, a locked server (admins may) and another project', async () => {
    const id = await boot(cloud, { flavorRef: '1' });
    assert.equal((await act(id, { pause: null })).status, 202);
    await cloud.settle();
    const paused = await act(id, { resize: { flavorRef: '2' } });
    assert.equal(paused.status, 409);
    assert.equal(paused.body.conflictingRequest.message, `Cannot 'resize' instance ${id} while it is in vm_state paused`);
    const mig = await act(id, { migrate: null }, 'admin');
    assert.equal(mig.body.conflictingRequest.message, `Cannot 'migrate' instance ${id} while it is in vm_state paused`);
    await act(id, { unpause: null });
    await cloud.settle();
    assert.equal((await act(id, { lock: null })).status, 202);
    const locked = await act(id, { resize: { flavorRef: '2' } });
    assert.equal(locked.status, 409);
    assert.equal(locked.body.conflictingRequest.message, `Instance ${id} is locked`);
    assert.equal((await act(id, { unlock: null })).status, 202);
    assert.equal((await act(id, { resize: { flavorRef: '2' } }, 'alt_demo')).status, 404);
    assert.equal((await act(id, { resize: { flavorRef: '2' } }, 'admin')).status, 202);
    await cloud.settle();
    const resized = await act(id, { resize: { flavorRef: '3' } });
    assert.equal(resized.status, 409);
    assert.equal(resized.body.conflictingRequest.message, `Cannot 'resize' instance ${id} while it is in vm_state resized`);
    assert.equal((await act(id, { confirmResize: null }, 'alt_demo')).status, 404);
    await cloud.request({ method: 'DELETE', url: `/compute/v2.1/servers/${id}` });
    await cloud.settle();
    await assertLedger(cloud);
  });

  it('over the cores quota is 403', async () => {
    const c = await startTestCloud({ compute: HOSTS, quotas: { cores: 2 } });
    try {
      const h = helpers(() => c);
      const id = await boot(c, { flavorRef: '1' });
      const res = await h.act(id, { resize: { flavorRef: '4' } });
      assert.equal(res.status, 403);
      assert.match(res.body.forbidden.message, /^Quota exceeded for cores: Requested 3, but already used 1 of 2 cores/);
      assert.equal((await h.show(id)).status, 'ACTIVE');
      await assertLedger(c);
    } finally {
      await c.close();
    }
  });

  it('no valid host: the server stays ACTIVE with the fault, the migration is error', async () => {
    const c = await startTestCloud({ compute: { hosts: [{ name: 'h1' }] } });
    try {
      const h = helpers(() => c);
      const id = await boot(c, { flavorRef: '1' });
      assert.equal((await h.act(id, { resize: { flavorRef: '2' } })).status, 202);
      await c.settle();
      const s = await h.show(id);
      assert.equal(s.status, 'ACTIVE');
      assert.equal(s['OS-EXT-STS:task_state'], null);
      assert.equal(s.fault, undefined, 'Nova shows a fault only on ERROR servers');
      const faults = await c.db.selectFrom('instance_faults').select('message').where('instance_uuid', '=', id).execute();
      assert.deepEqual(faults.map((f) => f.message), ['No valid host was found. There are not enough hosts available.']);
      assert.equal((await h.migrations(id))[0]?.status, 'error');
      assert.deepEqual((await h.usage()).h1, { vcpus: 1, ram: 512, disk: 1 });
      await assertLedger(c);
    } finally {
      await c.close();
    }
  });

  it('allow_resize_to_same_host lets a single host take the resize', async () => {
    const c = await startTestCloud({ compute: { hosts: [{ name: 'h1' }], allow_resize_to_same_host: true } });
    try {
      const h = helpers(() => c);
      const id = await boot(c, { flavorRef: '1' });
      assert.equal((await h.act(id, { resize: { flavorRef: '2' } })).status, 202);
      await c.settle();
      assert.equal((await h.show(id)).status, 'VERIFY_RESIZE');
      assert.deepEqual((await h.usage()).h1, { vcpus: 2, ram: 2560, disk: 21 });
      assert.equal((await h.act(id, { confirmResize: null })).status, 204);
      await c.settle();
      assert.deepEqual((await h.usage()).h1, { vcpus: 1, ram: 2048, disk: 20 });
      assert.deepEqual(await c.compute.drivers.get('h1')?.listGuests(), [id]);
      await assertLedger(c);
    } finally {
      await c.close();
    }
  });

  it('a driver failure on the destination sets ERROR with the fault and the migration error', async () => {
    const id = await boot(cloud, { flavorRef: '1' });
    const src = (await show(id))['OS-EXT-SRV-ATTR:host'] as string;
    const dst = src === 'h1' ? 'h2' : 'h1';
    const before = await usage();
    cloud.compute.drivers.get(dst)?.failNext('spawn', { uuid: id, message: 'disk copy failed' });
    assert.equal((await act(id, { resize: { flavorRef: '2' } })).status, 202);
    await cloud.settle();
    const s = await show(id);
    assert.equal(s.status, 'ERROR');
    assert.equal(s['OS-EXT-STS:task_state'], null);
    assert.equal(s.fault.message, 'disk copy failed');
    assert.equal((await migrations(id))[0]?.status, 'error');
    // The source had handed the server over: Nova leaves it on the destination, with its old flavor.
    assert.equal(s['OS-EXT-SRV-ATTR:host'], dst);
    assert.equal(s.flavor.original_name, 'm1.tiny');
    const after = await usage();
    assert.deepEqual(after[src], { vcpus: (before[src]?.vcpus ?? 0) - 1, ram: (before[src]?.ram ?? 0) - 512, disk: (before[src]?.disk ?? 0) - 1 }, 'the failed migration holds nothing');
    const actions = (await cloud.request({ url: `/compute/v2.1/servers/${id}/os-instance-actions`, as: 'admin' })).body.instanceActions as { action: string; request_id: string; message: string | null }[];
    const resize = actions.find((a) => a.action === 'resize');
    assert.equal(resize?.message, 'Error');
    await cloud.request({ method: 'DELETE', url: `/compute/v2.1/servers/${id}` });
    await cloud.settle();
    await assertLedger(cloud);
  });

  it('a driver failure on the source sets ERROR there, nothing held on the destination', async () => {
    const id = await boot(cloud, { flavorRef: '1' });
    const src = (await show(id))['OS-EXT-SRV-ATTR:host'] as string;
    const before = await usage();
    cloud.compute.drivers.get(src)?.failNext('migrateDiskAndPowerOff', { uuid: id, message: 'migrate disk failed' });
    assert.equal((await act(id, { migrate: null }, 'admin')).status, 202);
    await cloud.settle();
    const s = await show(id);
    assert.equal(s.status, 'ERROR');
    assert.equal(s['OS-EXT-SRV-ATTR:host'], src);
    assert.equal(s.fault.message, 'migrate disk failed');
    assert.equal((await migrations(id))[0]?.status, 'error');
    assert.deepEqual(await usage(), before);
    await cloud.request({ method: 'DELETE', url: `/compute/v2.1/servers/${id}` });
    await cloud.settle();
    await assertLedger(cloud);
  });

  it('shows each transitional task_state with visible timing', async () => {
    const slow = await startTestCloud({ compute: { ...HOSTS, timing: 'visible', step_ms: 1000 } });
    try {
      const h = helpers(() => slow);
      const id = await boot(slow, { flavorRef: '1' });
      assert.equal((await h.act(id, { resize: { flavorRef: '2' } })).status, 202);
      const seen = new Set<string>();
      for (let i = 0; i < 200; i++) {
        const t = (await h.show(id))['OS-EXT-STS:task_state'] as string | null;
        if (t) seen.add(t);
        if (t === null && i > 0) break;
        const due = slow.clock.nextDue();
        await new Promise((r) => setImmediate(r));
        if (due !== undefined) await slow.clock.advance(Math.max(0, due - slow.clock.now()));
      }
      await slow.settle();
      for (const t of ['resize_prep', 'resize_migrating', 'resize_finish']) assert.ok(seen.has(t), `saw ${[...seen].join(',')}`);
      assert.equal((await h.show(id)).status, 'VERIFY_RESIZE');
      await assertLedger(slow);
    } finally {
      await slow.close();
    }
  });

  it('auto-confirms after resize_confirm_window', async () => {
    const c = await startTestCloud({ compute: { ...HOSTS, resize_confirm_window: 60 } });
    try {
      const h = helpers(() => c);
      const id = await boot(c, { flavorRef: '1' });
      await h.act(id, { resize: { flavorRef: '2' } });
      await c.settle();
      assert.equal((await h.show(id)).status, 'VERIFY_RESIZE');
      assert.equal(await c.compute.periodic.pollUnconfirmedResizes(), 0);
      await c.clock.advance(61_000);
      assert.equal(await c.compute.periodic.pollUnconfirmedResizes(), 1);
      await c.settle();
      assert.equal((await h.show(id)).status, 'ACTIVE');
      assert.equal((await h.migrations(id))[0]?.status, 'confirmed');
      await assertLedger(c);
    } finally {
      await c.close();
    }
  });
});

describe('action: migrate (cold)', () => {
  let cloud: TestCloud;
  before(async () => {
    cloud = await startTestCloud({ compute: HOSTS });
  });
  after(async () => {
    await cloud.close();
  });
  const { act, show, migrations, usage } = helpers(() => cloud);

  it('moves the server to the other host through VERIFY_RESIZE; revert brings it back', async () => {
    const id = await boot(cloud, { flavorRef: '1' });
    const src = (await show(id))['OS-EXT-SRV-ATTR:host'] as string;
    const dst = src === 'h1' ? 'h2' : 'h1';
    const member = await act(id, { migrate: null });
    assert.equal(member.status, 403);
    assert.equal(member.body.forbidden.message, "Policy doesn't allow os_compute_api:os-migrate-server:migrate to be performed.");
    assert.equal((await act(id, { migrate: null }, 'admin')).status, 202);
    assert.equal((await show(id))['OS-EXT-STS:task_state'], 'resize_prep');
    await cloud.settle();
    const moved = await show(id);
    assert.equal(moved.status, 'VERIFY_RESIZE');
    assert.equal(moved['OS-EXT-SRV-ATTR:host'], dst);
    const [m] = await migrations(id);
    assert.equal(m?.migration_type, 'migration');
    assert.equal(m?.old_instance_type_id, m?.new_instance_type_id);
    assert.deepEqual(await usage(), { [src]: { vcpus: 1, ram: 512, disk: 1 }, [dst]: { vcpus: 1, ram: 512, disk: 1 } });
    assert.equal((await act(id, { revertResize: null })).status, 202);
    await cloud.settle();
    const back = await show(id);
    assert.equal(back.status, 'ACTIVE');
    assert.equal(back['OS-EXT-SRV-ATTR:host'], src);
    assert.deepEqual(await usage(), { [src]: { vcpus: 1, ram: 512, disk: 1 }, [dst]: { vcpus: 0, ram: 0, disk: 0 } });
    assert.deepEqual(await cloud.compute.drivers.get(src)?.listGuests(), [id]);
    assert.deepEqual(await cloud.compute.drivers.get(dst)?.listGuests(), []);
    await cloud.request({ method: 'DELETE', url: `/compute/v2.1/servers/${id}` });
    await cloud.settle();
    await assertLedger(cloud);
  });

  it('2.56 host: admin-only, unknown host 400, same host 400, body checked', async () => {
    const id = await boot(cloud, { flavorRef: '1' });
    const src = (await show(id))['OS-EXT-SRV-ATTR:host'] as string;
    const dst = src === 'h1' ? 'h2' : 'h1';
    const bad = await act(id, { migrate: { host: 'nowhere' } }, 'admin', '2.56');
    assert.equal(bad.status, 400);
    assert.equal(bad.body.badRequest.message, 'Compute host nowhere could not be found.');
    assert.equal((await act(id, { migrate: { host: src } }, 'admin', '2.56')).status, 400);
    assert.equal((await act(id, { migrate: { bogus: 1 } }, 'admin', '2.56')).status, 400);
    assert.equal((await act(id, { migrate: { host: dst } }, 'admin', '2.56')).status, 202);
    await cloud.settle();
    assert.equal((await show(id))['OS-EXT-SRV-ATTR:host'], dst);
    assert.equal((await act(id, { confirmResize: null }, 'admin')).status, 204);
    await cloud.settle();
    assert.equal((await show(id)).status, 'ACTIVE');
    assert.deepEqual(await usage(), { [src]: { vcpus: 0, ram: 0, disk: 0 }, [dst]: { vcpus: 1, ram: 512, disk: 1 } });
    await assertLedger(cloud);
  });
});

describe('resize: restart recovery', () => {
  it('rolls an interrupted resize back on the source and reverts interrupted reverts to ERROR', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stratus-resize-'));
    const dbPath = join(dir, 'stratus.db');
    const config = { data_dir: dir, compute: { ...HOSTS, timing: 'visible', step_ms: 1000 } };
    const first = await startTestCloud(config, { dbPath });
    let second: TestCloud | undefined;
    try {
      const h1 = helpers(() => first);
      const moving = await boot(first, { flavorRef: '1', name: 'was-migrating' });
      const reverting = await boot(first, { flavorRef: '1', name: 'was-reverting' });
      const src = (await h1.show(moving))['OS-EXT-SRV-ATTR:host'] as string;
      assert.equal((await h1.act(reverting, { resize: { flavorRef: '2' } })).status, 202);
      await first.settle();
      assert.equal((await h1.act(reverting, { revertResize: null })).status, 202);
      assert.equal((await h1.act(moving, { resize: { flavorRef: '2' } })).status, 202);
      const tasks = async () =>
        Object.fromEntries((await first.db.selectFrom('instances').select(['uuid', 'task_state']).where('deleted', '=', 0).execute()).map((r) => [r.uuid, r.task_state]));
      for (let i = 0; i < 200; i++) {
        if ((await tasks())[moving] === 'resize_migrating') break;
        await new Promise((r) => setImmediate(r));
      }
      assert.deepEqual(await tasks(), { [moving]: 'resize_migrating', [reverting]: 'resize_reverting' });
      // The first service is abandoned mid-way; a second one starts on the same database.
      second = await startTestCloud({ data_dir: dir, compute: HOSTS }, { dbPath });
      await second.settle();
      const s2 = second;
      const h2 = helpers(() => s2);
      const m = await h2.show(moving);
      assert.equal(m.status, 'ACTIVE');
      assert.equal(m['OS-EXT-STS:task_state'], null);
      assert.equal(m['OS-EXT-SRV-ATTR:host'], src);
      assert.equal(m.flavor.original_name, 'm1.tiny');
      assert.equal((await h2.migrations(moving))[0]?.status, 'error');
      const r = await h2.show(reverting);
      assert.equal(r.status, 'ERROR');
      assert.equal(r['OS-EXT-STS:task_state'], null);
      assert.equal((await h2.migrations(reverting))[0]?.status, 'error');
      // Nothing is held for failed migrations: each host counts only the servers placed on it.
      const u = await h2.usage();
      assert.equal(Object.values(u).reduce((acc, x) => acc + x.vcpus, 0), 2);
      await assertLedger(s2);
    } finally {
      await second?.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
