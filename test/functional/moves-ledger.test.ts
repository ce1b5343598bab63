import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { startTestCloud, type TestCloud } from '../helpers/cloud.js';
import { boot } from '../helpers/servers.js';
import { actionKit, ticks } from '../helpers/actions.js';
import { assertLedger, MOVE_HOLDINGS } from '../helpers/ledger.js';
import { touchInstance } from '../../src/compute/servers/repo.js';
import { isoMicro } from '../../src/lib/time.js';

/**
 * The ledger assertion itself: it holds through ordinary move scenarios and
 * it rejects (naming the host and server) when the hypervisors, the servers
 * and the moves under way disagree.
 */
describe('resource ledger (test/helpers/ledger.ts)', () => {
  let cloud: TestCloud;
  let kit: ReturnType<typeof actionKit>;
  before(async () => {
    cloud = await startTestCloud({ compute: { hosts: [{ name: 'h1' }, { name: 'h2' }] } });
    kit = actionKit(cloud);
  });
  after(async () => {
    await cloud.close();
  });
  afterEach(async () => {
    const servers = await cloud.request({ url: '/compute/v2.1/servers?all_tenants=1', as: 'admin' });
    for (const s of servers.body.servers as { id: string }[]) await cloud.request({ method: 'DELETE', url: `/compute/v2.1/servers/${s.id}`, as: 'admin' });
    await cloud.settle();
    await assertLedger(cloud, { label: 'after cleanup' });
  });

  const hostOf = async (id: string): Promise<string> => String((await kit.show(id))['OS-EXT-SRV-ATTR:host']);
  const other = (h: string): string => (h === 'h1' ? 'h2' : 'h1');

  it('the holdings table covers every kind of move, each status and host at most once', () => {
    const seen = new Set<string>();
    for (const r of MOVE_HOLDINGS) {
      for (const t of r.types) {
        for (const s of r.statuses) {
          assert.ok(!seen.has(`${t}/${s}/${r.on}`), `${t}/${s} held twice on ${r.on}`);
          seen.add(`${t}/${s}/${r.on}`);
        }
      }
    }
    for (const t of ['resize', 'migration', 'live-migration', 'evacuation']) assert.ok(MOVE_HOLDINGS.some((r) => r.types.includes(t)), t);
  });

  it('holds on an empty cloud, after builds, through a resize (both hosts held) and its confirm', async () => {
    await assertLedger(cloud, { label: 'empty' });
    const id = await boot(cloud, { flavorRef: '1' });
    await boot(cloud, { flavorRef: '2', name: 'other' });
    await assertLedger(cloud, { label: 'built' });
    assert.equal((await kit.act(id, { resize: { flavorRef: '3' } })).status, 202);
    await cloud.settle();
    assert.equal((await kit.show(id)).status, 'VERIFY_RESIZE');
    await assertLedger(cloud, { label: 'VERIFY_RESIZE' });
    assert.equal((await kit.act(id, { confirmResize: null })).status, 204);
    await cloud.settle();
    await assertLedger(cloud, { label: 'confirmed' });
  });

  it('holds through a cold migration and its revert, and a stopped server\'s resize', async () => {
    const id = await boot(cloud, { flavorRef: '1' });
    assert.equal((await kit.act(id, { migrate: null }, 'admin')).status, 202);
    await cloud.settle();
    await assertLedger(cloud, { label: 'migrated' });
    assert.equal((await kit.act(id, { revertResize: null })).status, 202);
    await cloud.settle();
    assert.equal((await kit.show(id)).status, 'ACTIVE');
    await assertLedger(cloud, { label: 'reverted' });
    assert.equal((await kit.act(id, { 'os-stop': null })).status, 202);
    await cloud.settle();
    assert.equal((await kit.act(id, { resize: { flavorRef: '2' } })).status, 202);
    await cloud.settle();
    await assertLedger(cloud, { label: 'stopped, resized' });
  });

  it('holds when a server is deleted while it waits in VERIFY_RESIZE', async () => {
    const id = await boot(cloud, { flavorRef: '1' });
    assert.equal((await kit.act(id, { resize: { flavorRef: '2' } })).status, 202);
    await cloud.settle();
    assert.equal((await cloud.request({ method: 'DELETE', url: `/compute/v2.1/servers/${id}` })).status, 204);
    await cloud.settle();
    await assertLedger(cloud, { label: 'deleted in VERIFY_RESIZE' });
  });

  it('holds for a same-host resize (source and destination are one host)', async () => {
    const c = await startTestCloud({ compute: { hosts: [{ name: 'h1' }], allow_resize_to_same_host: true } });
    try {
      const k = actionKit(c);
      const id = await boot(c, { flavorRef: '1' });
      assert.equal((await k.act(id, { resize: { flavorRef: '2' } })).status, 202);
      await c.settle();
      assert.equal((await k.show(id)).status, 'VERIFY_RESIZE');
      await assertLedger(c, { label: 'same host VERIFY_RESIZE' });
      assert.equal((await k.act(id, { revertResize: null })).status, 202);
      await c.settle();
      await assertLedger(c, { label: 'same host reverted' });
    } finally {
      await c.close();
    }
  });

  it('counts soft-deleted servers (they keep their host and guest) and reads every page of a listing', async () => {
    const c = await startTestCloud({ compute: { hosts: [{ name: 'h1' }, { name: 'h2' }], reclaim_instance_interval: 3600, max_limit: 2 } });
    try {
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) ids.push(await boot(c, { flavorRef: '1', name: `vm${i}` }));
      const gone = ids[0] ?? '';
      assert.equal((await c.request({ method: 'DELETE', url: `/compute/v2.1/servers/${gone}` })).status, 204);
      await c.settle();
      assert.equal((await actionKit(c).show(gone)).status, 'SOFT_DELETED');
      await assertLedger(c, { label: 'soft-deleted, paged listings' });
      // Newest first, two a page: vm1 is on the second page, the soft-deleted vm0 on the third.
      const last = ids[1] ?? '';
      const host = String((await actionKit(c).show(last))['OS-EXT-SRV-ATTR:host']);
      const d = c.compute.drivers.get(host);
      assert.ok(d);
      await d.destroy(last);
      await assert.rejects(assertLedger(c), new RegExp(`server ${last} \\(ACTIVE\\) is placed here but the hypervisor has no guest`));
    } finally {
      await c.close();
    }
  });

  it('rejects a stray guest on a hypervisor, naming the host and the guest', async () => {
    const id = await boot(cloud, { flavorRef: '1' });
    const h = other(await hostOf(id));
    const stray = randomUUID();
    const driver = cloud.compute.drivers.get(h);
    assert.ok(driver);
    await driver.adopt(stray, 1);
    try {
      await assert.rejects(assertLedger(cloud), (err: Error) => {
        assert.match(err.message, new RegExp(`host ${h}: runs a stray guest ${stray}`));
        return true;
      });
    } finally {
      await driver.destroy(stray);
    }
    await assertLedger(cloud);
  });

  it('rejects a server whose host does not run its guest (host changed behind the hypervisors\' back)', async () => {
    const id = await boot(cloud, { flavorRef: '1' });
    const h = await hostOf(id);
    await touchInstance(cloud.db, id, { host: other(h), node: other(h) });
    try {
      await assert.rejects(assertLedger(cloud), (err: Error) => {
        assert.match(err.message, new RegExp(`host ${other(h)}: server ${id} \\(ACTIVE\\) is placed here but the hypervisor has no guest for it`));
        assert.match(err.message, new RegExp(`host ${h}: runs a guest of server ${id} \\(ACTIVE\\), which is placed on ${other(h)}`));
        return true;
      });
    } finally {
      await touchInstance(cloud.db, id, { host: h, node: h });
    }
    await assertLedger(cloud);
  });

  it('rejects a missing guest unless the server is declared guestless', async () => {
    const id = await boot(cloud, { flavorRef: '1' });
    const h = await hostOf(id);
    const driver = cloud.compute.drivers.get(h);
    assert.ok(driver);
    await driver.destroy(id);
    await assert.rejects(assertLedger(cloud), new RegExp(`host ${h}: server ${id} \\(ACTIVE\\) is placed here but the hypervisor has no guest`));
    await assertLedger(cloud, { guestless: [id] });
    await driver.adopt(id, 1);
  });

  it('rejects hypervisor usage that the servers do not account for', async () => {
    const id = await boot(cloud, { flavorRef: '1' });
    const h = await hostOf(id);
    // The usage columns disagree with the server's flavor.
    await touchInstance(cloud.db, id, { memory_mb: 1024 });
    try {
      await assert.rejects(assertLedger(cloud), (err: Error) => {
        assert.match(err.message, new RegExp(`host ${h}: hypervisor reports vcpus=1 ram=1024 disk=1 but its servers and moves account for vcpus=1 ram=512 disk=1 \\(server ${id} ACTIVE`));
        return true;
      });
    } finally {
      await touchInstance(cloud.db, id, { memory_mb: 512 });
    }
    await assertLedger(cloud);
  });

  it('rejects a host committed beyond capacity × allocation ratio', async () => {
    const id = await boot(cloud, { flavorRef: '1' });
    const h = await hostOf(id);
    const row = await kit.row(id);
    const flavor = JSON.parse(row.flavor) as Record<string, unknown>;
    // 16 vCPUs × 4.0 = 64: 65 is over, and consistently so on both counts.
    await touchInstance(cloud.db, id, { vcpus: 65, flavor: JSON.stringify({ ...flavor, vcpus: 65 }) });
    try {
      await assert.rejects(assertLedger(cloud), (err: Error) => {
        assert.match(err.message, new RegExp(`host ${h}: reported vcpus 65 exceeds 16 × ratio = 64`));
        assert.doesNotMatch(err.message, /hypervisor reports/);
        return true;
      });
    } finally {
      await touchInstance(cloud.db, id, { vcpus: row.vcpus, flavor: row.flavor });
    }
    await assertLedger(cloud);
  });

  it('rejects when the holdings table and the hypervisors disagree about a move under way', async () => {
    const id = await boot(cloud, { flavorRef: '1' });
    const src = await hostOf(id);
    assert.equal((await kit.act(id, { resize: { flavorRef: '2' } })).status, 202);
    await cloud.settle();
    assert.equal((await kit.show(id)).status, 'VERIFY_RESIZE');
    await assertLedger(cloud);
    // Without the row for a finished resize the source's held share is unaccounted for ...
    const without = MOVE_HOLDINGS.filter((r) => !r.statuses.includes('finished'));
    await assert.rejects(
      assertLedger(cloud, { rules: without }),
      new RegExp(`host ${src}: hypervisor reports vcpus=1 ram=512 disk=1 but its servers and moves account for vcpus=0 ram=0 disk=0 \\(nothing placed there\\)`),
    );
    // ... and a table that also held the new flavor on the destination would count it twice.
    const twice = [...MOVE_HOLDINGS, { types: ['resize'], statuses: ['finished'], flavor: 'new' as const, on: 'dest_compute' as const }];
    await assert.rejects(assertLedger(cloud, { rules: twice }), new RegExp(`host ${other(src)}: hypervisor reports vcpus=1 ram=2048 disk=20 but its servers and moves account for vcpus=2 ram=4096 disk=40`));
  });

  it("lets the source of a done evacuation keep the server's guest", async () => {
    const id = await boot(cloud, { flavorRef: '1' });
    const h = await hostOf(id);
    const src = other(h);
    const now = isoMicro(cloud.clock.now());
    const row = await kit.row(id);
    const uuid = randomUUID();
    await cloud.db
      .insertInto('migrations')
      .values({
        uuid, instance_uuid: id, source_compute: src, dest_compute: h, source_node: src, dest_node: h, dest_host: h,
        old_instance_type_id: null, new_instance_type_id: null, status: 'done', migration_type: 'evacuation',
        hidden: 0, old_flavor: row.flavor, new_flavor: row.flavor, old_vm_state: 'active', project_id: row.project_id, user_id: row.user_id,
        cross_cell_move: 0, created_at: now, updated_at: now, deleted_at: null, deleted: 0,
      })
      .execute();
    const driver = cloud.compute.drivers.get(src);
    assert.ok(driver);
    await driver.adopt(id, 4);
    try {
      // Whether or not the hypervisors already count the source's share, the old guest left there is allowed.
      const err = await assertLedger(cloud).then(() => undefined, (e: Error) => e);
      if (err) assert.doesNotMatch(err.message, /runs a guest/);
      // Without the evacuation record, the same guest is a discrepancy.
      await cloud.db.updateTable('migrations').set({ status: 'completed' }).where('uuid', '=', uuid).execute();
      await assert.rejects(assertLedger(cloud), new RegExp(`host ${src}: runs a guest of server ${id} \\(ACTIVE\\), which is placed on ${h}`));
    } finally {
      await driver.destroy(id);
      await cloud.db.deleteFrom('migrations').where('uuid', '=', uuid).execute();
    }
    await assertLedger(cloud);
  });
});

describe('resource ledger after live migration and evacuation', () => {
  const act = (cloud: TestCloud, id: string, body: unknown, version: string) =>
    cloud.request({ method: 'POST', url: `/compute/v2.1/servers/${id}/action`, as: 'admin', body, version });
  const bootOn = async (cloud: TestCloud, host: string): Promise<string> => {
    const id = await boot(cloud, { as: 'admin', version: '2.74', extra: { host, networks: 'auto' } });
    assert.equal((await actionKit(cloud).show(id))['OS-EXT-SRV-ATTR:host'], host);
    return id;
  };
  const forceDown = async (cloud: TestCloud, host: string, down: boolean): Promise<void> => {
    const res = await cloud.request({ method: 'PUT', url: '/compute/v2.1/os-services/force-down', as: 'admin', version: '2.11', body: { host, binary: 'nova-compute', forced_down: down } });
    assert.equal(res.status, 200, res.text);
  };

  it('holds after a live migration', async () => {
    const c = await startTestCloud({ compute: { hosts: [{ name: 'h1' }, { name: 'h2' }] } });
    try {
      const id = await bootOn(c, 'h1');
      assert.equal((await act(c, id, { 'os-migrateLive': { host: null, block_migration: 'auto' } }, '2.25')).status, 202);
      await c.settle();
      const s = await actionKit(c).show(id);
      assert.equal(s.status, 'ACTIVE');
      assert.equal(s['OS-EXT-SRV-ATTR:host'], 'h2');
      await assertLedger(c, { label: 'live-migrated' });
    } finally {
      await c.close();
    }
  });

  it('holds after an evacuation (the dead source keeps its share and its guest) and after the source comes back', async () => {
    const c = await startTestCloud({ compute: { hosts: [{ name: 'h1' }, { name: 'h2' }] } });
    try {
      const id = await bootOn(c, 'h1');
      await forceDown(c, 'h1', true);
      assert.equal((await act(c, id, { evacuate: {} }, '2.14')).status, 200);
      await c.settle();
      const s = await actionKit(c).show(id);
      assert.equal(s.status, 'ACTIVE');
      assert.equal(s['OS-EXT-SRV-ATTR:host'], 'h2');
      assert.ok((await c.compute.drivers.get('h1')?.listGuests())?.includes(id), 'the old guest is still on h1');
      await assertLedger(c, { label: 'evacuated, source down' });
      await forceDown(c, 'h1', false);
      await c.clock.advance(10_000);
      await c.compute.periodic.tick();
      await c.settle();
      await assertLedger(c, { label: 'source back and cleaned up' });
    } finally {
      await c.close();
    }
  });

  it('holds while an evacuation rebuilds on its destination (pre-migrating): the server still shows its failed source', async () => {
    const c = await startTestCloud({ compute: { hosts: [{ name: 'h1' }, { name: 'h2' }], timing: 'visible', step_ms: 1000 } });
    try {
      const id = await bootOn(c, 'h1');
      await c.settle();
      await forceDown(c, 'h1', true);
      assert.equal((await act(c, id, { evacuate: {} }, '2.14')).status, 200);
      const status = async () => (await c.request({ url: `/compute/v2.1/os-migrations?instance_uuid=${id}`, as: 'admin', version: '2.23' })).body.migrations[0]?.status as string | undefined;
      for (let i = 0; i < 200 && (await status()) !== 'pre-migrating'; i++) await ticks(1);
      assert.equal(await status(), 'pre-migrating');
      const s = await actionKit(c).show(id);
      assert.equal(s.status, 'REBUILD');
      // The destination's guest is still being built; the failed source still runs the old one.
      assert.deepEqual(
        { host: s['OS-EXT-SRV-ATTR:host'], h1: await c.compute.drivers.get('h1')?.listGuests(), h2: await c.compute.drivers.get('h2')?.listGuests() },
        { host: 'h1', h1: [id], h2: [] },
      );
      await assertLedger(c, { label: 'evacuation pre-migrating' });
    } finally {
      // Let the rebuild finish on the fake clock, or closing would wait for it forever.
      await c.settle();
      await c.close();
    }
  });
});
