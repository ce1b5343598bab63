import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { shelvedImageIdOf } from '../../../src/compute/actions/image-support.js';
import { PowerState } from '../../../src/compute/states.js';
import { startTestCloud, type TestCloud } from '../../helpers/cloud.js';
import { boot } from '../../helpers/servers.js';
import { ALL_VM_STATES, actionKit } from '../../helpers/actions.js';

const QUOTAS = { instances: 100, cores: 200, ram: 512000 };
const ZONED_HOSTS = [
  { name: 'compute1', availability_zone: 'nova' },
  { name: 'compute2', availability_zone: 'nova' },
  { name: 'compute3', availability_zone: 'zone-b' },
];

describe('action: shelve / shelveOffload / unshelve (offload at once, the default)', () => {
  let cloud: TestCloud;
  let k: ReturnType<typeof actionKit>;
  before(async () => {
    cloud = await startTestCloud({ quotas: QUOTAS, compute: { hosts: ZONED_HOSTS } });
    k = actionKit(cloud);
  });
  after(async () => {
    await cloud.close();
  });

  it('shelves into a <name>-shelved snapshot and offloads: SHELVED_OFFLOADED, guest gone, host freed', async () => {
    const id = await boot(cloud, { name: 'web' });
    const driver = await k.driverOf(id);
    const res = await k.act(id, { shelve: null });
    assert.equal(res.status, 202, res.text);
    assert.equal(res.text, '');
    assert.equal((await k.row(id)).task_state, 'shelving');
    await cloud.settle();
    const s = await k.show(id);
    assert.equal(s.status, 'SHELVED_OFFLOADED');
    assert.equal(s['OS-EXT-STS:task_state'], null);
    assert.equal(s['OS-EXT-STS:power_state'], PowerState.SHUTDOWN);
    assert.equal(s['OS-EXT-SRV-ATTR:host'], null);
    assert.equal(s['OS-EXT-SRV-ATTR:hypervisor_hostname'], null);
    assert.equal(s.hostId, '');
    assert.ok(!(await driver.listGuests()).includes(id), 'the guest is destroyed');
    const used = await cloud.db.selectFrom('instances').select('uuid').where('host', 'is not', null).where('uuid', '=', id).execute();
    assert.equal(used.length, 0, 'the server no longer counts against any host');
    const imageId = await shelvedImageIdOf(cloud.db, id);
    assert.ok(imageId);
    const img = await k.image(imageId);
    assert.equal(img?.name, 'web-shelved');
    assert.equal(img?.status, 'active');
    assert.equal(img?.image_type, 'snapshot');
    assert.equal(img?.instance_uuid, id);
    const { action, events } = await k.actionOf(res);
    assert.equal(action?.action, 'shelve');
    assert.deepEqual(events.map((e) => [e.event, e.result]), [['compute_shelve_instance', 'Success']]);
    assert.ok(Object.keys(s.addresses as object).length > 0, 'an offloaded server keeps its ports');

    const un = await k.act(id, { unshelve: null });
    assert.equal(un.status, 202, un.text);
    assert.equal((await k.row(id)).task_state, 'unshelving');
    await cloud.settle();
    const back = await k.show(id);
    assert.equal(back.status, 'ACTIVE');
    assert.equal(back['OS-EXT-STS:power_state'], PowerState.RUNNING);
    assert.ok(back['OS-EXT-SRV-ATTR:host'], 'scheduled to a host again');
    assert.ok((await (await k.driverOf(id)).listGuests()).includes(id));
    assert.equal(await k.image(imageId), undefined, 'the shelve snapshot is deleted after unshelve');
    const unEvents = (await k.actionOf(un)).events.map((e) => [e.event, e.result]);
    assert.deepEqual(unEvents, [['schedule_instances', 'Success'], ['compute_unshelve_instance', 'Success']]);
  });

  it('shows shelving, the image upload and shelving_offloading on the way', async () => {
    const slow = await startTestCloud({ quotas: QUOTAS, compute: { timing: 'visible', step_ms: 1000 } });
    try {
      const s = actionKit(slow);
      const id = await boot(slow);
      assert.equal((await s.act(id, { shelve: null })).status, 202);
      const seen = await s.trace(id, (r) => r.vm_state === 'shelved_offloaded');
      assert.deepEqual(seen, ['shelving', 'shelving_image_pending_upload', 'shelving_offloading', null]);
      assert.equal((await s.act(id, { unshelve: null })).status, 202);
      const back = await s.trace(id, (r) => r.vm_state === 'active');
      assert.deepEqual(back, ['unshelving', 'spawning', null]);
    } finally {
      await slow.settle();
      await slow.close();
    }
  });

  it('unshelves into a zone (2.77), to a host (2.91, admin) or unpinned (2.91 availability_zone null)', async () => {
    const id = await boot(cloud);
    await k.act(id, { shelve: null });
    await cloud.settle();
    assert.equal(k.badRequestMsg(await k.act(id, { unshelve: { availability_zone: 'nowhere' } }, 'demo', '2.77')), 'The requested availability zone is not available');
    assert.equal((await k.act(id, { unshelve: {} }, 'demo', '2.77')).status, 400, 'an object needs availability_zone at 2.77');
    assert.equal((await k.act(id, { unshelve: { host: 'compute3' } }, 'demo', '2.90')).status, 400, 'host from 2.91');
    const zoned = await k.act(id, { unshelve: { availability_zone: 'zone-b' } }, 'demo', '2.77');
    assert.equal(zoned.status, 202, zoned.text);
    await cloud.settle();
    let s = await k.show(id, '2.96');
    assert.equal(s['OS-EXT-SRV-ATTR:host'], 'compute3');
    assert.equal(s['OS-EXT-AZ:availability_zone'], 'zone-b');
    assert.equal(s.pinned_availability_zone, 'zone-b');

    await k.act(id, { shelve: null });
    await cloud.settle();
    const pol = await k.act(id, { unshelve: { host: 'compute2' } }, 'demo', '2.91');
    assert.equal(pol.status, 403);
    assert.equal(pol.body.forbidden.message, "Policy doesn't allow os_compute_api:os-shelve:unshelve_to_host to be performed.");
    assert.equal(k.badRequestMsg(await k.act(id, { unshelve: { host: 'compute9' } }, 'admin', '2.91')), 'Compute host compute9 could not be found.');
    assert.equal(
      k.conflictMsg(await k.act(id, { unshelve: { host: 'compute2' } }, 'admin', '2.91')),
      'Host "compute2" is not in the availability zone "zone-b".',
      'still pinned to zone-b',
    );
    const unpinned = await k.act(id, { unshelve: { availability_zone: null, host: 'compute2' } }, 'admin', '2.91');
    assert.equal(unpinned.status, 202, unpinned.text);
    await cloud.settle();
    s = await k.show(id, '2.96');
    assert.equal(s['OS-EXT-SRV-ATTR:host'], 'compute2');
    assert.equal(s.pinned_availability_zone, null);
    // Below 2.77 the body is not looked at.
    await k.act(id, { shelve: null });
    await cloud.settle();
    assert.equal((await k.act(id, { unshelve: { availability_zone: 'nowhere' } }, 'demo', '2.76')).status, 202);
    await cloud.settle();
    assert.equal((await k.show(id)).status, 'ACTIVE');
  });

  it('refuses wrong vm_states, busy and locked servers with 409', async () => {
    for (const vm of ALL_VM_STATES.filter((v) => !['active', 'stopped', 'paused', 'suspended'].includes(v))) {
      const id = await boot(cloud);
      await k.force(id, { vm_state: vm });
      assert.equal(k.conflictMsg(await k.act(id, { shelve: null })), `Cannot 'shelve' instance ${id} while it is in vm_state ${vm}`);
    }
    for (const vm of ALL_VM_STATES.filter((v) => !['shelved', 'shelved_offloaded'].includes(v))) {
      const id = await boot(cloud);
      await k.force(id, { vm_state: vm });
      assert.equal(k.conflictMsg(await k.act(id, { unshelve: null })), `Cannot 'unshelve' instance ${id} while it is in vm_state ${vm}`);
      assert.equal(k.conflictMsg(await k.act(id, { shelveOffload: null }, 'admin')), `Cannot 'shelveOffload' instance ${id} while it is in vm_state ${vm}`);
    }
    const busy = await boot(cloud);
    await k.force(busy, { task_state: 'pausing' });
    assert.equal(k.conflictMsg(await k.act(busy, { shelve: null })), `Cannot 'shelve' instance ${busy} while it is in task_state pausing`);
    const locked = await boot(cloud);
    await k.force(locked, { locked: 1, locked_by: 'admin' });
    assert.equal(k.conflictMsg(await k.act(locked, { shelve: null })), `Instance ${locked} is locked`);
    assert.equal((await k.act(locked, { shelve: null }, 'admin')).status, 202);
    await cloud.settle();
    assert.equal(k.conflictMsg(await k.act(locked, { unshelve: null })), `Instance ${locked} is locked`);
    assert.equal((await k.act(locked, { unshelve: null }, 'admin')).status, 202);
    await cloud.settle();
  });

  it("hides another project's server (404)", async () => {
    const id = await boot(cloud);
    assert.equal((await k.act(id, { shelve: null }, 'alt_demo')).status, 404);
    assert.equal((await k.act(id, { shelve: null }, 'admin')).status, 202);
    await cloud.settle();
    assert.equal((await k.act(id, { unshelve: null }, 'alt_demo')).status, 404);
    assert.equal((await k.act(id, { unshelve: null }, 'admin')).status, 202);
    await cloud.settle();
  });

  it('keeps the server and deletes the image when the snapshot fails', async () => {
    const id = await boot(cloud);
    (await k.driverOf(id)).failNext('snapshot', { uuid: id, message: 'no space for the snapshot' });
    const res = await k.act(id, { shelve: null });
    await cloud.settle();
    const r = await k.row(id);
    assert.equal(r.vm_state, 'active');
    assert.equal(r.task_state, null);
    assert.ok(r.host);
    assert.equal((await k.faults(id)).at(-1)?.message, 'no space for the snapshot');
    const imageId = await shelvedImageIdOf(cloud.db, id);
    assert.ok(imageId);
    assert.equal(await k.image(imageId), undefined);
    const { action, events } = await k.actionOf(res);
    assert.equal(action?.message, 'Error');
    assert.equal(events[0]?.result, 'Error');
  });

  it('leaves the server offloaded, off every host, when the unshelve spawn fails', async () => {
    const id = await boot(cloud);
    await k.act(id, { shelve: null });
    await cloud.settle();
    for (const d of cloud.compute.drivers.values()) d.failNext('spawn', { uuid: id, message: 'spawn exploded' });
    const res = await k.act(id, { unshelve: null });
    assert.equal(res.status, 202);
    await cloud.settle();
    const r = await k.row(id);
    assert.equal(r.vm_state, 'shelved_offloaded');
    assert.equal(r.task_state, null);
    assert.equal(r.host, null);
    assert.equal((await k.faults(id)).at(-1)?.message, 'spawn exploded');
    const events = (await k.actionOf(res)).events.map((e) => [e.event, e.result]);
    assert.deepEqual(events, [['schedule_instances', 'Success'], ['compute_unshelve_instance', 'Error']]);
    for (const d of cloud.compute.drivers.values()) d.clearFailures();
    assert.equal((await k.act(id, { unshelve: null })).status, 202);
    await cloud.settle();
    assert.equal((await k.show(id)).status, 'ACTIVE');
  });

  it('stays offloaded with task_state cleared when no host is valid', async () => {
    const id = await boot(cloud);
    await k.act(id, { shelve: null });
    await cloud.settle();
    const setHosts = async (action: 'disable' | 'enable') => {
      for (const h of ZONED_HOSTS) {
        const res = await cloud.request({ method: 'PUT', url: `/compute/v2.1/os-services/${action}`, as: 'admin', body: { host: h.name, binary: 'nova-compute' } });
        assert.equal(res.status, 200, res.text);
      }
    };
    await setHosts('disable');
    try {
      const res = await k.act(id, { unshelve: null });
      assert.equal(res.status, 202);
      await cloud.settle();
      const r = await k.row(id);
      assert.equal(r.vm_state, 'shelved_offloaded');
      assert.equal(r.task_state, null);
      assert.equal(r.host, null);
      assert.deepEqual((await k.actionOf(res)).events.map((e) => [e.event, e.result]), [['schedule_instances', 'Error']]);
    } finally {
      await setHosts('enable');
    }
  });

  it('sets ERROR when the shelve snapshot is gone at unshelve', async () => {
    const id = await boot(cloud);
    await k.act(id, { shelve: null });
    await cloud.settle();
    const imageId = await shelvedImageIdOf(cloud.db, id);
    assert.ok(imageId);
    assert.equal((await cloud.request({ method: 'DELETE', url: `/image/v2/images/${imageId}`, as: 'demo' })).status, 204);
    await k.act(id, { unshelve: null });
    await cloud.settle();
    const s = await k.show(id);
    assert.equal(s.status, 'ERROR');
    assert.equal((s.fault as { message: string }).message, `Unshelve attempted but the image ${imageId} cannot be found.`);
    assert.equal(s['OS-EXT-SRV-ATTR:host'], null);
  });
});

describe('action: shelve kept on the host (shelved_offload_time -1), shelveOffload, periodic offload', () => {
  let cloud: TestCloud;
  let k: ReturnType<typeof actionKit>;
  before(async () => {
    cloud = await startTestCloud({ quotas: QUOTAS, compute: { shelved_offload_time: -1 } });
    k = actionKit(cloud);
  });
  after(async () => {
    await cloud.close();
  });

  it('shelves to SHELVED on its host; unshelve powers it on there and deletes the snapshot', async () => {
    const id = await boot(cloud);
    const host = (await k.row(id)).host;
    await k.act(id, { shelve: null });
    await cloud.settle();
    const s = await k.show(id);
    assert.equal(s.status, 'SHELVED');
    assert.equal(s['OS-EXT-SRV-ATTR:host'], host);
    assert.equal(s['OS-EXT-STS:power_state'], PowerState.SHUTDOWN);
    const imageId = await shelvedImageIdOf(cloud.db, id);
    assert.ok(imageId);
    assert.equal((await k.image(imageId))?.status, 'active');
    assert.equal(
      k.conflictMsg(await k.act(id, { unshelve: { availability_zone: 'nova' } }, 'demo', '2.77')),
      `Specifying an availability zone or a host when unshelving server "${id}" with status "shelved" is not supported. The server status must be SHELVED_OFFLOADED.`,
    );
    const un = await k.act(id, { unshelve: null });
    assert.equal(un.status, 202);
    await cloud.settle();
    const back = await k.show(id);
    assert.equal(back.status, 'ACTIVE');
    assert.equal(back['OS-EXT-SRV-ATTR:host'], host);
    assert.equal(back['OS-EXT-STS:power_state'], PowerState.RUNNING);
    assert.equal(await k.image(imageId), undefined);
    assert.deepEqual((await k.actionOf(un)).events.map((e) => [e.event, e.result]), [['compute_start_instance', 'Success']]);
  });

  it('shelveOffload is for admins and SHELVED servers only', async () => {
    const id = await boot(cloud);
    await k.act(id, { shelve: null });
    await cloud.settle();
    const member = await k.act(id, { shelveOffload: null });
    assert.equal(member.status, 403);
    assert.equal(member.body.forbidden.message, "Policy doesn't allow os_compute_api:os-shelve:shelve_offload to be performed.");
    const res = await k.act(id, { shelveOffload: null }, 'admin');
    assert.equal(res.status, 202);
    assert.equal((await k.row(id)).task_state, 'shelving_offloading');
    await cloud.settle();
    const s = await k.show(id);
    assert.equal(s.status, 'SHELVED_OFFLOADED');
    assert.equal(s['OS-EXT-SRV-ATTR:host'], null);
    assert.deepEqual((await k.actionOf(res)).events.map((e) => [e.event, e.result]), [['compute_shelve_offload_instance', 'Success']]);
    assert.equal(k.conflictMsg(await k.act(id, { shelveOffload: null }, 'admin')), `Cannot 'shelveOffload' instance ${id} while it is in vm_state shelved_offloaded`);
  });

  it('forceDelete of a shelved server deletes its snapshot', async () => {
    const id = await boot(cloud);
    await k.act(id, { shelve: null });
    await cloud.settle();
    const imageId = await shelvedImageIdOf(cloud.db, id);
    assert.ok(imageId);
    assert.equal((await k.act(id, { forceDelete: null })).status, 202);
    await cloud.settle();
    assert.equal(await k.image(imageId), undefined);
    assert.equal((await cloud.request({ url: `/compute/v2.1/servers/${id}` })).status, 404);
  });

  it('offloads shelved servers after shelved_offload_time (periodic task on the injected clock)', async () => {
    const timed = await startTestCloud({ quotas: QUOTAS, compute: { shelved_offload_time: 600 }, auth: { token_ttl_seconds: 30 * 86400 } });
    try {
      const t = actionKit(timed);
      const id = await boot(timed);
      await t.act(id, { shelve: null });
      await timed.settle();
      assert.equal((await t.row(id)).vm_state, 'shelved');
      await timed.clock.advance(3600 * 1000);
      assert.equal(await timed.compute.periodic.tick(), 1);
      await timed.settle();
      const r = await t.row(id);
      assert.equal(r.vm_state, 'shelved_offloaded');
      assert.equal(r.host, null);
    } finally {
      await timed.close();
    }
  });
});
