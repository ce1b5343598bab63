import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestCloud, type TestCloud, type TestResponse } from '../helpers/cloud.js';
import { cirrosId } from '../helpers/servers.js';
import { actionKit, ticks } from '../helpers/actions.js';
import { assertLedger } from '../helpers/ledger.js';

/**
 * Moves and builds racing for the last free capacity. The conductor places
 * one request at a time, so exactly as many win as fit; every loser ends as
 * Nova leaves it after No valid host: a build in ERROR with no host, a
 * resize or cold migration with the server unchanged (same host, flavor and
 * vm_state), task_state None, a fault, the migration `error` and the
 * conductor_migrate_server event failed. No host is ever committed beyond
 * its allocation ratios, and the resource ledger holds after each round.
 */

const V = '/compute/v2.1';
const NO_VALID_HOST = 'No valid host was found. There are not enough hosts available.';

function kitFor(cloud: TestCloud) {
  const kit = actionKit(cloud);
  /** An admin-owned server forced onto `host` (availability_zone nova:<host>), built. */
  const bootOn = async (host: string, flavorRef: string, name = `on-${host}`): Promise<string> => {
    const res = await cloud.request({
      method: 'POST',
      url: `${V}/servers`,
      as: 'admin',
      body: { server: { name, flavorRef, imageRef: await cirrosId(cloud), availability_zone: `nova:${host}` } },
    });
    assert.equal(res.status, 202, res.text);
    await cloud.settle();
    const id = String(res.body.server.id);
    const s = await kit.show(id);
    assert.equal(s.status, 'ACTIVE');
    assert.equal(s['OS-EXT-SRV-ATTR:host'], host);
    return id;
  };
  const build = (flavorRef: string, image: string, name: string): Promise<TestResponse> =>
    cloud.request({ method: 'POST', url: `${V}/servers`, as: 'demo', body: { server: { name, flavorRef, imageRef: image } } });
  const migrationOf = async (id: string): Promise<Record<string, unknown> | undefined> => {
    const res = await cloud.request({ url: `${V}/os-migrations?instance_uuid=${id}`, as: 'admin', version: '2.23' });
    return (res.body.migrations as Record<string, unknown>[])[0];
  };
  const faultMessages = async (id: string): Promise<string[]> => (await kit.faults(id)).map((f) => f.message);
  /** Hypervisor usage and capacity per host, as an operator sees it. */
  const hypervisors = async (): Promise<Map<string, Record<string, number>>> => {
    const res = await cloud.request({ url: `${V}/os-hypervisors/detail`, as: 'admin', version: '2.87' });
    return new Map((res.body.hypervisors as Record<string, unknown>[]).map((h) => [String(h.hypervisor_hostname), h as Record<string, number>]));
  };

  /** A move that lost: the server as it was, task_state None, the fault, the migration error, the conductor event failed. */
  const assertLostMove = async (id: string, before: { host: string; flavor: string; status: string }, res: TestResponse): Promise<void> => {
    const s = await kit.show(id, '2.47');
    assert.deepEqual(
      { status: s.status, task_state: s['OS-EXT-STS:task_state'], host: s['OS-EXT-SRV-ATTR:host'], flavor: s.flavor.original_name },
      { status: before.status, task_state: null, host: before.host, flavor: before.flavor },
      `server ${id} after losing the race`,
    );
    assert.equal(s.fault, undefined, 'Nova shows the fault only on ERROR servers');
    assert.deepEqual(await faultMessages(id), [NO_VALID_HOST]);
    assert.equal((await migrationOf(id))?.status, 'error');
    const requestId = String(res.headers['x-openstack-request-id']);
    const action = await cloud.request({ url: `${V}/servers/${id}/os-instance-actions/${requestId}`, as: 'admin', version: '2.62' });
    const events = action.body.instanceAction.events as { event: string; result: string }[];
    assert.deepEqual(events.map((e) => [e.event, e.result]), [['conductor_migrate_server', 'Error']]);
    assert.equal(action.body.instanceAction.message, 'Error');
  };

  /** A build that lost: ERROR, no host, the No valid host fault. */
  const assertLostBuild = async (id: string): Promise<void> => {
    const s = await kit.show(id);
    assert.equal(s.status, 'ERROR');
    assert.equal(s['OS-EXT-SRV-ATTR:host'], null);
    assert.equal(s.fault?.message, NO_VALID_HOST);
  };

  /** Every host within capacity × ratio on what the hypervisors report (the ledger checks it too; this says it plainly). */
  const assertNoOvercommit = async (): Promise<void> => {
    const hv = await hypervisors();
    for (const h of cloud.config.compute.hosts) {
      const x = hv.get(h.name);
      assert.ok(x, h.name);
      assert.ok(Number(x.vcpus_used) <= h.vcpus * h.cpu_allocation_ratio, `${h.name} vcpus ${x.vcpus_used} > ${h.vcpus} × ${h.cpu_allocation_ratio}`);
      assert.ok(Number(x.memory_mb_used) <= h.memory_mb * h.ram_allocation_ratio, `${h.name} ram ${x.memory_mb_used} > ${h.memory_mb} × ${h.ram_allocation_ratio}`);
      assert.ok(Number(x.local_gb_used) <= h.disk_gb * h.disk_allocation_ratio, `${h.name} disk ${x.local_gb_used} > ${h.disk_gb} × ${h.disk_allocation_ratio}`);
    }
  };
  return { ...kit, bootOn, build, migrationOf, hypervisors, assertLostMove, assertLostBuild, assertNoOvercommit };
}

async function withCloud(config: Record<string, unknown>, fn: (cloud: TestCloud) => Promise<void>): Promise<void> {
  const cloud = await startTestCloud(config);
  try {
    await fn(cloud);
  } finally {
    await cloud.close();
  }
}

describe('moves racing for the last free capacity', () => {
  // Three hosts with room for exactly one more server of `flavor`, on h3: memory-bound, then CPU-bound through a 2.0 allocation ratio.
  const layouts = [
    { label: 'memory-bound (4096 MB hosts, m1.small)', flavor: '2', name: 'm1.small', host: { memory_mb: 4096 } },
    { label: 'CPU-bound (1 vCPU × cpu_allocation_ratio 2.0, m1.tiny)', flavor: '1', name: 'm1.tiny', host: { vcpus: 1, cpu_allocation_ratio: 2.0 } },
  ];
  // The requests go out in both orders, so that either kind may be the one that wins.
  for (const [layout, buildsFirst] of layouts.flatMap((l) => [[l, false], [l, true]] as const)) {
    it(`${layout.label}: five cold migrations and two builds at once (${buildsFirst ? 'builds' : 'migrations'} sent first), exactly one wins`, async () => {
      const hosts = ['h1', 'h2', 'h3'].map((name) => ({ name, ...layout.host }));
      await withCloud({ compute: { hosts } }, async (cloud) => {
        const k = kitFor(cloud);
        const placed: { id: string; host: string }[] = [];
        for (const host of ['h1', 'h1', 'h2', 'h2', 'h3']) placed.push({ id: await k.bootOn(host, layout.flavor), host });
        await assertLedger(cloud, { label: 'filled' });
        const image = await cirrosId(cloud);
        const sendMigrations = () => Promise.all(placed.map((p) => k.act(p.id, { migrate: null }, 'admin')));
        const sendBuilds = () => Promise.all([k.build(layout.flavor, image, 'racer-1'), k.build(layout.flavor, image, 'racer-2')]);
        const [migrations, builds] = buildsFirst
          ? await Promise.all([sendBuilds(), sendMigrations()]).then(([b, m]) => [m, b] as const)
          : await Promise.all([sendMigrations(), sendBuilds()]);
        for (const r of [...migrations, ...builds]) assert.equal(r.status, 202, r.text);
        await cloud.settle();

        const moved: string[] = [];
        for (const [i, p] of placed.entries()) {
          const s = await k.show(p.id);
          if (s.status === 'VERIFY_RESIZE') {
            moved.push(p.id);
            assert.equal(s['OS-EXT-SRV-ATTR:host'], 'h3', 'the only free capacity is on h3');
            assert.notEqual(p.host, 'h3');
            assert.equal((await k.migrationOf(p.id))?.status, 'finished');
          } else {
            const res = migrations[i];
            assert.ok(res);
            await k.assertLostMove(p.id, { host: p.host, flavor: layout.name, status: 'ACTIVE' }, res);
          }
        }
        const built: string[] = [];
        for (const b of builds) {
          const id = String(b.body.server.id);
          const s = await k.show(id);
          if (s.status === 'ACTIVE') {
            built.push(id);
            assert.equal(s['OS-EXT-SRV-ATTR:host'], 'h3');
          } else await k.assertLostBuild(id);
        }
        assert.equal(moved.length + built.length, 1, `exactly one of the racers fits: moved ${JSON.stringify(moved)} built ${JSON.stringify(built)}`);
        await k.assertNoOvercommit();
        await assertLedger(cloud, { label: 'after the race' });

        // The winner's source keeps its share until the move is confirmed; then it is free again.
        const winner = moved[0];
        if (winner !== undefined) {
          assert.equal((await k.act(winner, { confirmResize: null }, 'admin')).status, 204);
          await cloud.settle();
          assert.equal((await k.show(winner)).status, 'ACTIVE');
          await assertLedger(cloud, { label: 'winner confirmed' });
        }
        // Exactly one slot is free again somewhere (the winner's source, or none if a build won).
        const more = await k.build(layout.flavor, image, 'after');
        assert.equal(more.status, 202);
        await cloud.settle();
        assert.equal((await k.show(String(more.body.server.id))).status, winner !== undefined ? 'ACTIVE' : 'ERROR');
        await k.assertNoOvercommit();
        await assertLedger(cloud, { label: 'one more build' });
      });
    });
  }

  it('five resizes at once to a flavor only one destination can take: one wins; revert frees it for the next', async () => {
    // h1 and h2 are full with two m1.tiny each; h3 has one m1.tiny and room for exactly one m1.small besides.
    const hosts = [{ name: 'h1', memory_mb: 1024 }, { name: 'h2', memory_mb: 1024 }, { name: 'h3', memory_mb: 2560 }];
    await withCloud({ compute: { hosts } }, async (cloud) => {
      const k = kitFor(cloud);
      const placed: { id: string; host: string }[] = [];
      for (const host of ['h1', 'h1', 'h2', 'h2', 'h3']) placed.push({ id: await k.bootOn(host, '1'), host });
      await assertLedger(cloud, { label: 'filled' });
      const responses = await Promise.all(placed.map((p) => k.act(p.id, { resize: { flavorRef: '2' } }, 'admin')));
      for (const r of responses) assert.equal(r.status, 202, r.text);
      await cloud.settle();
      let winner: { id: string; host: string } | undefined;
      for (const [i, p] of placed.entries()) {
        const s = await k.show(p.id, '2.47');
        if (s.status === 'VERIFY_RESIZE') {
          assert.equal(winner, undefined, 'only one resize fits');
          winner = p;
          assert.equal(s['OS-EXT-SRV-ATTR:host'], 'h3');
          assert.equal(s.flavor.original_name, 'm1.small');
        } else {
          const res = responses[i];
          assert.ok(res);
          await k.assertLostMove(p.id, { host: p.host, flavor: 'm1.tiny', status: 'ACTIVE' }, res);
        }
      }
      assert.ok(winner, 'one resize fits');
      assert.notEqual(winner.host, 'h3', 'the server on h3 cannot be resized onto its own host');
      // h3 is full with the new flavor; the winner's source still holds the old one.
      const hv = await k.hypervisors();
      assert.equal(hv.get('h3')?.memory_mb_used, 2560);
      assert.equal(hv.get(winner.host)?.memory_mb_used, 1024);
      await k.assertNoOvercommit();
      await assertLedger(cloud, { label: 'after the race' });

      assert.equal((await k.act(winner.id, { revertResize: null }, 'admin')).status, 202);
      await cloud.settle();
      const back = await k.show(winner.id, '2.47');
      assert.equal(back.status, 'ACTIVE');
      assert.equal(back['OS-EXT-SRV-ATTR:host'], winner.host);
      assert.equal(back.flavor.original_name, 'm1.tiny');
      await assertLedger(cloud, { label: 'winner reverted' });

      // A loser tries again and now fits.
      const loser = placed.find((p) => p.id !== winner?.id && p.host !== 'h3');
      assert.ok(loser);
      assert.equal((await k.act(loser.id, { resize: { flavorRef: '2' } }, 'admin')).status, 202);
      await cloud.settle();
      assert.equal((await k.show(loser.id)).status, 'VERIFY_RESIZE');
      await k.assertNoOvercommit();
      await assertLedger(cloud, { label: 'loser retried' });
    });
  });
});

describe('a resize holds the destination, then the source, until confirm or revert', () => {
  // h1 fits exactly one m1.tiny, h2 exactly one m1.small: server A (m1.tiny on h1) resized to m1.small can only go to h2.
  const hosts = [{ name: 'h1', memory_mb: 512 }, { name: 'h2', memory_mb: 2048 }];

  /** A on h1, resized to h2 while a build of m1.small races it for h2 (sent first or second); returns A once it waits in VERIFY_RESIZE. */
  const raceThenResize = async (cloud: TestCloud, buildFirst: boolean): Promise<string> => {
    const k = kitFor(cloud);
    const a = await k.bootOn('h1', '1', 'A');
    const image = await cirrosId(cloud);
    const sendResize = () => k.act(a, { resize: { flavorRef: '2' } }, 'admin');
    const sendBuild = () => k.build('2', image, 'racer');
    const [resize, racer] = buildFirst
      ? await Promise.all([sendBuild(), sendResize()]).then(([b, r]) => [r, b] as const)
      : await Promise.all([sendResize(), sendBuild()]);
    assert.equal(resize.status, 202);
    assert.equal(racer.status, 202);
    await cloud.settle();
    const racerId = String(racer.body.server.id);
    const aNow = (await k.show(a)).status;
    const racerNow = (await k.show(racerId)).status;
    assert.equal([aNow === 'VERIFY_RESIZE', racerNow === 'ACTIVE'].filter(Boolean).length, 1, `one of them fits: A ${aNow}, racer ${racerNow}`);
    await k.assertNoOvercommit();
    await assertLedger(cloud, { label: 'resize raced a build' });
    if (aNow !== 'VERIFY_RESIZE') {
      // The build won: A is unchanged; free h2 and resize again.
      await k.assertLostMove(a, { host: 'h1', flavor: 'm1.tiny', status: 'ACTIVE' }, resize);
      assert.equal((await cloud.request({ method: 'DELETE', url: `${V}/servers/${racerId}` })).status, 204);
      await cloud.settle();
      assert.equal((await k.act(a, { resize: { flavorRef: '2' } }, 'admin')).status, 202);
      await cloud.settle();
    } else {
      await k.assertLostBuild(racerId);
    }
    const s = await k.show(a);
    assert.equal(s.status, 'VERIFY_RESIZE');
    assert.equal(s['OS-EXT-SRV-ATTR:host'], 'h2');
    return a;
  };

  it('while it waits in VERIFY_RESIZE the source is held: a build finds no room; after revert the destination is free', async () => {
    await withCloud({ compute: { hosts } }, async (cloud) => {
      const k = kitFor(cloud);
      const a = await raceThenResize(cloud, false);
      const image = await cirrosId(cloud);
      const tiny = await k.build('1', image, 'tiny');
      await cloud.settle();
      await k.assertLostBuild(String(tiny.body.server.id));
      const hv = await k.hypervisors();
      assert.equal(hv.get('h1')?.memory_mb_used, 512, 'the source keeps the old flavor');
      assert.equal(hv.get('h2')?.memory_mb_used, 2048);
      await assertLedger(cloud, { label: 'VERIFY_RESIZE, build refused' });

      assert.equal((await k.act(a, { revertResize: null }, 'admin')).status, 202);
      await cloud.settle();
      const back = await k.show(a, '2.47');
      assert.equal(back.status, 'ACTIVE');
      assert.equal(back['OS-EXT-SRV-ATTR:host'], 'h1');
      assert.equal(back.flavor.original_name, 'm1.tiny');
      await assertLedger(cloud, { label: 'reverted' });
      const small = await k.build('2', image, 'small');
      await cloud.settle();
      const s = await k.show(String(small.body.server.id));
      assert.equal(s.status, 'ACTIVE');
      assert.equal(s['OS-EXT-SRV-ATTR:host'], 'h2');
      await k.assertNoOvercommit();
      await assertLedger(cloud, { label: 'reverted, h2 rebuilt' });
    });
  });

  it('after confirm the source is free: the build that was refused now fits there', async () => {
    await withCloud({ compute: { hosts } }, async (cloud) => {
      const k = kitFor(cloud);
      // This time the build is sent first.
      const a = await raceThenResize(cloud, true);
      const image = await cirrosId(cloud);
      const refused = await k.build('1', image, 'tiny');
      await cloud.settle();
      await k.assertLostBuild(String(refused.body.server.id));
      assert.equal((await k.act(a, { confirmResize: null }, 'admin')).status, 204);
      await cloud.settle();
      assert.equal((await k.show(a)).status, 'ACTIVE');
      await assertLedger(cloud, { label: 'confirmed' });
      const tiny = await k.build('1', image, 'tiny-again');
      await cloud.settle();
      const s = await k.show(String(tiny.body.server.id));
      assert.equal(s.status, 'ACTIVE');
      assert.equal(s['OS-EXT-SRV-ATTR:host'], 'h1');
      await k.assertNoOvercommit();
      await assertLedger(cloud, { label: 'confirmed, h1 rebuilt' });
    });
  });

  it('while the guest is on its way the destination is already held: a build started mid-resize finds no room', async () => {
    await withCloud({ compute: { hosts, timing: 'visible', step_ms: 1000 } }, async (cloud) => {
      const k = kitFor(cloud);
      const a = await k.bootOn('h1', '1', 'A');
      assert.equal((await k.act(a, { resize: { flavorRef: '2' } }, 'admin')).status, 202);
      const seen = await k.trace(a, (r) => r.task_state === 'resize_migrating');
      assert.deepEqual(seen, ['resize_prep', 'resize_migrating']);
      assert.equal((await k.migrationOf(a))?.status, 'migrating');
      const hv = await k.hypervisors();
      assert.equal(hv.get('h2')?.memory_mb_used, 2048, 'the destination holds the new flavor before the guest arrives');
      assert.equal(hv.get('h1')?.memory_mb_used, 512);
      const racer = await k.build('2', await cirrosId(cloud), 'racer');
      assert.equal(racer.status, 202);
      const racerId = String(racer.body.server.id);
      // Placed (refused) without the clock moving: the resize is still under way.
      await ticks(50);
      assert.equal((await k.show(a))['OS-EXT-STS:task_state'], 'resize_migrating');
      await k.assertLostBuild(racerId);
      await cloud.settle();
      const s = await k.show(a);
      assert.equal(s.status, 'VERIFY_RESIZE');
      assert.equal(s['OS-EXT-SRV-ATTR:host'], 'h2');
      await k.assertNoOvercommit();
      await assertLedger(cloud, { label: 'resized after the refused build' });
    });
  });
});
