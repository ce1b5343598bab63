import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PowerState } from '../../../src/compute/states.js';
import { startTestCloud, type TestCloud } from '../../helpers/cloud.js';
import { boot } from '../../helpers/servers.js';
import { ALL_VM_STATES, actionKit } from '../../helpers/actions.js';

const QUOTAS = { instances: 100, cores: 200, ram: 512000 };

describe('action: restore / forceDelete and the periodic reclaim (reclaim_instance_interval 3600)', () => {
  let cloud: TestCloud;
  let k: ReturnType<typeof actionKit>;
  before(async () => {
    // Tokens must outlive the hours the clock is moved forward.
    cloud = await startTestCloud({ quotas: QUOTAS, compute: { reclaim_instance_interval: 3600 }, auth: { token_ttl_seconds: 30 * 86400 } });
    k = actionKit(cloud);
  });
  after(async () => {
    await cloud.close();
  });
  const softDelete = async (id: string) => {
    assert.equal((await cloud.request({ method: 'DELETE', url: `/compute/v2.1/servers/${id}` })).status, 204);
    await cloud.settle();
    assert.equal((await k.row(id)).vm_state, 'soft-delete');
  };
  const gone = async (id: string) => (await cloud.request({ url: `/compute/v2.1/servers/${id}`, as: 'admin' })).status === 404;

  it('restores a soft-deleted server through restoring to ACTIVE, powered on', async () => {
    const id = await boot(cloud);
    await softDelete(id);
    (await k.driverOf(id)).setPowerState(id, PowerState.SHUTDOWN);
    const res = await k.act(id, { restore: null });
    assert.equal(res.status, 202, res.text);
    assert.equal(res.text, '');
    const during = await k.row(id);
    assert.equal(during.task_state, 'restoring');
    assert.equal(during.deleted_at, null);
    await cloud.settle();
    const s = await k.show(id);
    assert.equal(s.status, 'ACTIVE');
    assert.equal(s['OS-EXT-STS:power_state'], PowerState.RUNNING);
    assert.equal(await (await k.driverOf(id)).powerState(id), PowerState.RUNNING);
    const { action, events } = await k.actionOf(res);
    assert.equal(action?.action, 'restore');
    assert.deepEqual(events.map((e) => [e.event, e.result]), [['compute_restore_instance', 'Success']]);
    assert.equal((await cloud.request({ url: '/compute/v2.1/servers' })).body.servers.some((x: { id: string }) => x.id === id), true);
  });

  it('refuses restore outside soft-delete, while busy, when locked (Nova\'s invalid-state text) and over quota', async () => {
    for (const vm of ALL_VM_STATES.filter((v) => v !== 'soft-delete')) {
      const id = await boot(cloud);
      await k.force(id, { vm_state: vm });
      assert.equal(k.conflictMsg(await k.act(id, { restore: null })), `Cannot 'restore' instance ${id} while it is in vm_state ${vm}`);
    }
    const busy = await boot(cloud);
    await softDelete(busy);
    await k.force(busy, { task_state: 'restoring' });
    assert.equal(k.conflictMsg(await k.act(busy, { restore: null })), `Cannot 'restore' instance ${busy} while it is in task_state restoring`);
    const locked = await boot(cloud);
    await softDelete(locked);
    await k.force(locked, { locked: 1, locked_by: 'owner' });
    assert.equal(k.conflictMsg(await k.act(locked, { restore: null })), `Instance ${locked} is in an invalid state for 'restore'`);
    assert.equal((await k.act(locked, { restore: null }, 'admin')).status, 202);
    await cloud.settle();

    const tight = await startTestCloud({ quotas: { instances: 1 }, compute: { reclaim_instance_interval: 3600 } });
    try {
      const t = actionKit(tight);
      const a = await boot(tight);
      assert.equal((await tight.request({ method: 'DELETE', url: `/compute/v2.1/servers/${a}` })).status, 204);
      await tight.settle();
      await boot(tight);
      const over = await t.act(a, { restore: null });
      assert.equal(over.status, 403);
      assert.equal(over.body.forbidden.message, 'Quota exceeded for instances: Requested 1, but already used 1 of 1 instances');
    } finally {
      await tight.close();
    }
  });

  it("hides another project's server (404); admins may restore and force-delete any", async () => {
    const id = await boot(cloud);
    await softDelete(id);
    assert.equal((await k.act(id, { restore: null }, 'alt_demo')).status, 404);
    assert.equal((await k.act(id, { forceDelete: null }, 'alt_demo')).status, 404);
    assert.equal((await k.act(id, { restore: null }, 'admin')).status, 202);
    await cloud.settle();
    await softDelete(id);
    assert.equal((await k.act(id, { forceDelete: null }, 'admin')).status, 202);
    await cloud.settle();
    assert.ok(await gone(id));
  });

  it('force-deletes a soft-deleted server now, and any other server too; lock-checked', async () => {
    const id = await boot(cloud);
    const driver = await k.driverOf(id);
    await softDelete(id);
    const res = await k.act(id, { forceDelete: null });
    assert.equal(res.status, 202, res.text);
    assert.equal(res.text, '');
    await cloud.settle();
    assert.ok(await gone(id));
    assert.ok(!(await driver.listGuests()).includes(id));
    const { action, events } = await k.actionOf(res);
    assert.equal(action?.action, 'delete', 'Nova records a forceDelete as a delete');
    assert.deepEqual(events.map((e) => [e.event, e.result]), [['compute_terminate_instance', 'Success']]);

    const active = await boot(cloud);
    assert.equal((await k.act(active, { forceDelete: null })).status, 202);
    await cloud.settle();
    assert.ok(await gone(active));

    const locked = await boot(cloud);
    await k.force(locked, { locked: 1, locked_by: 'owner' });
    assert.equal(k.conflictMsg(await k.act(locked, { forceDelete: null })), `Instance ${locked} is locked`);
    assert.equal((await k.act(locked, { forceDelete: null }, 'admin')).status, 202);
    await cloud.settle();
    assert.ok(await gone(locked));
  });

  it('validates the bodies', async () => {
    const id = await boot(cloud);
    assert.equal((await k.act(id, { restore: null, forceDelete: null })).status, 400);
    assert.equal((await k.act(id, { restore: {} })).status, 409, 'any value is accepted, as in Nova');
  });

  it('reclaims servers soft-deleted longer than reclaim_instance_interval, on the injected clock', async () => {
    const old = await boot(cloud);
    await softDelete(old);
    await cloud.clock.advance(1800 * 1000);
    const young = await boot(cloud);
    await softDelete(young);
    assert.equal(await cloud.compute.periodic.reclaimQueuedDeletes(), 0, 'nothing is old enough yet');
    await cloud.clock.advance(1800 * 1000 + 1);
    assert.equal(await cloud.compute.periodic.tick(), 1, 'the task is due after one interval');
    await cloud.settle();
    assert.ok(await gone(old));
    assert.equal(await gone(young), false);
    assert.equal(await cloud.compute.periodic.tick(), 0, 'not due again before another interval');
    await cloud.clock.advance(3600 * 1000);
    assert.equal(await cloud.compute.periodic.tick(), 1);
    await cloud.settle();
    assert.ok(await gone(young));
  });

  it('reverts task_state with a fault when the guest cannot be powered on', async () => {
    const id = await boot(cloud);
    await softDelete(id);
    const d = await k.driverOf(id);
    d.setPowerState(id, PowerState.SHUTDOWN);
    d.failNext('powerOn', { uuid: id, message: 'will not start' });
    const res = await k.act(id, { restore: null });
    assert.equal(res.status, 202);
    await cloud.settle();
    const r = await k.row(id);
    assert.equal(r.vm_state, 'soft-delete');
    assert.equal(r.task_state, null);
    assert.equal((await k.faults(id)).at(-1)?.message, 'will not start');
    assert.equal((await k.actionOf(res)).events[0]?.result, 'Error');
  });
});
