import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { backupsOf } from '../../../src/agent/actions/snapshot.js';
import { PowerState } from '../../../src/compute/states.js';
import { startTestCloud, type TestCloud } from '../../helpers/cloud.js';
import { boot, cirrosId } from '../../helpers/servers.js';
import { ALL_VM_STATES, actionKit } from '../../helpers/actions.js';

describe('action: createImage / createBackup', () => {
  let cloud: TestCloud;
  let k: ReturnType<typeof actionKit>;
  before(async () => {
    cloud = await startTestCloud({ quotas: { metadata_items: 2, instances: 100, cores: 200, ram: 512000 } });
    k = actionKit(cloud);
  });
  after(async () => {
    await cloud.close();
  });

  it('snapshots into a new image: queued until the host uploads it, then active with Nova\'s properties (2.1 Location)', async () => {
    const id = await boot(cloud, { name: 'web' });
    const res = await k.act(id, { createImage: { name: 'snap1', metadata: { purpose: 'test' } } });
    assert.equal(res.status, 202, res.text);
    assert.equal(res.text, '');
    const location = String(res.headers.location);
    const m = /^http:\/\/[^/]+\/image\/images\/([0-9a-f-]{36})$/.exec(location);
    assert.ok(m, `Location is the image service's URL of the image: ${location}`);
    const imageId = m[1] ?? '';
    assert.equal((await k.row(id)).task_state, 'image_snapshot_pending');
    assert.equal((await k.image(imageId))?.status, 'queued');
    await cloud.settle();
    const img = await k.image(imageId);
    assert.ok(img);
    assert.equal(img.status, 'active');
    assert.equal(img.name, 'snap1');
    assert.equal(img.visibility, 'private');
    assert.equal(img.instance_uuid, id);
    assert.equal(img.image_type, 'snapshot');
    assert.equal(img.base_image_ref, await cirrosId(cloud));
    assert.equal(img.owner_project_name, 'demo');
    assert.equal(img.owner_user_name, 'demo');
    assert.equal(img.purpose, 'test');
    assert.equal(typeof img.user_id, 'string');
    assert.ok(Number(img.size) > 0);
    const s = await k.show(id);
    assert.equal(s.status, 'ACTIVE');
    assert.equal(s['OS-EXT-STS:task_state'], null);
    const { action, events } = await k.actionOf(res);
    assert.equal(action?.action, 'createImage');
    assert.deepEqual(events.map((e) => [e.event, e.result]), [['compute_snapshot_instance', 'Success']]);
    // The snapshot can boot a server.
    const from = await cloud.request({ method: 'POST', url: '/compute/v2.1/servers', body: { server: { name: 'clone', flavorRef: '1', imageRef: imageId } } });
    assert.equal(from.status, 202, from.text);
    await cloud.settle();
  });

  it('answers {"image_id"} without Location from 2.45', async () => {
    const id = await boot(cloud);
    const res = await k.act(id, { createImage: { name: 'snap245' } }, 'demo', '2.45');
    assert.equal(res.status, 202);
    assert.equal(res.headers.location, undefined);
    assert.match(res.body.image_id, /^[0-9a-f-]{36}$/);
    await cloud.settle();
    assert.equal((await k.image(res.body.image_id))?.status, 'active');
  });

  it('shows image_snapshot_pending and image_pending_upload while the host works', async () => {
    const slow = await startTestCloud({ compute: { timing: 'visible', step_ms: 1000 } });
    try {
      const s = actionKit(slow);
      const id = await boot(slow);
      const res = await s.act(id, { createImage: { name: 'slow' } }, 'demo', '2.45');
      assert.equal(res.status, 202);
      const seen = await s.trace(id, (r) => r.task_state === null);
      assert.deepEqual(seen, ['image_snapshot_pending', 'image_pending_upload', null]);
      assert.equal((await s.image(res.body.image_id))?.status, 'active');
    } finally {
      await slow.settle();
      await slow.close();
    }
  });

  it('snapshots stopped, paused and suspended servers; refuses other vm_states and busy servers with 409', async () => {
    for (const vm of ['stopped', 'paused', 'suspended'] as const) {
      const id = await boot(cloud);
      await k.force(id, { vm_state: vm });
      const res = await k.act(id, { createImage: { name: `from-${vm}` } }, 'demo', '2.45');
      assert.equal(res.status, 202, `${vm}: ${res.text}`);
      await cloud.settle();
      assert.equal((await k.image(res.body.image_id))?.status, 'active');
      assert.equal((await k.row(id)).vm_state, vm, 'the snapshot does not change the vm_state');
    }
    for (const vm of ALL_VM_STATES.filter((v) => !['active', 'stopped', 'paused', 'suspended'].includes(v))) {
      const id = await boot(cloud);
      await k.force(id, { vm_state: vm });
      assert.equal(k.conflictMsg(await k.act(id, { createImage: { name: 'x' } })), `Cannot 'createImage' instance ${id} while it is in vm_state ${vm}`);
      assert.equal(
        k.conflictMsg(await k.act(id, { createBackup: { name: 'x', backup_type: 'daily', rotation: 1 } })),
        `Cannot 'createBackup' instance ${id} while it is in vm_state ${vm}`,
      );
    }
    const busy = await boot(cloud);
    await k.force(busy, { task_state: 'pausing' });
    assert.equal(k.conflictMsg(await k.act(busy, { createImage: { name: 'x' } })), `Cannot 'createImage' instance ${busy} while it is in task_state pausing`);
  });

  it('lets exactly one of two racing snapshots win, and deletes the loser\'s image', async () => {
    const id = await boot(cloud);
    const before1 = await cloud.db.selectFrom('images').select('id').where('deleted', '=', 0).execute();
    const [a, b] = await Promise.all([
      k.act(id, { createImage: { name: 'race' } }, 'demo', '2.45'),
      k.act(id, { createImage: { name: 'race' } }, 'demo', '2.45'),
    ]);
    assert.deepEqual([a.status, b.status].sort(), [202, 409]);
    await cloud.settle();
    const after1 = await cloud.db.selectFrom('images').select('id').where('deleted', '=', 0).execute();
    assert.equal(after1.length, before1.length + 1);
  });

  it('is not lock-checked', async () => {
    const id = await boot(cloud);
    await k.force(id, { locked: 1, locked_by: 'admin' });
    assert.equal((await k.act(id, { createImage: { name: 'locked' } })).status, 202);
    await cloud.settle();
    assert.equal((await k.act(id, { createBackup: { name: 'locked-b', backup_type: 'daily', rotation: 1 } })).status, 202);
    await cloud.settle();
  });

  it("hides another project's server (404); an admin's snapshot of it is shared with the owner", async () => {
    const id = await boot(cloud);
    assert.equal((await k.act(id, { createImage: { name: 'x' } }, 'alt_demo')).status, 404);
    assert.equal((await k.act(id, { createBackup: { name: 'x', backup_type: 'd', rotation: 1 } }, 'alt_demo')).status, 404);
    const res = await k.act(id, { createImage: { name: 'by-admin' } }, 'admin', '2.45');
    assert.equal(res.status, 202);
    await cloud.settle();
    const img = await k.image(res.body.image_id);
    assert.equal(img?.visibility, 'shared');
    assert.equal(img?.instance_owner, (await k.row(id)).project_id);
    const seen = await cloud.request({ url: `/image/v2/images/${res.body.image_id}`, as: 'demo' });
    assert.equal(seen.status, 200, 'the owner project is a member of the image');
  });

  it('validates bodies; image metadata counts against the quota below 2.39 only', async () => {
    const id = await boot(cloud);
    assert.equal((await k.act(id, { createImage: {} })).status, 400);
    assert.equal((await k.act(id, { createImage: { name: '' } })).status, 400);
    assert.equal((await k.act(id, { createImage: { name: 'x', bogus: 1 } })).status, 400);
    assert.equal((await k.act(id, { createImage: { name: 'x', metadata: { k: 1 } } })).status, 400);
    assert.equal((await k.act(id, { createBackup: { name: 'x', backup_type: 'daily' } })).status, 400);
    assert.equal((await k.act(id, { createBackup: { name: 'x', backup_type: 'daily', rotation: -1 } })).status, 400);
    assert.equal((await k.act(id, { createBackup: { name: 'x', backup_type: 'daily', rotation: 'two' } })).status, 400);
    const meta = { a: '1', b: '2', c: '3' };
    const over = await k.act(id, { createImage: { name: 'x', metadata: meta } }, 'demo', '2.38');
    assert.equal(over.status, 403);
    assert.equal(over.body.forbidden.message, 'Image metadata limit exceeded');
    const overB = await k.act(id, { createBackup: { name: 'x', backup_type: 'daily', rotation: 1, metadata: meta } }, 'demo', '2.38');
    assert.equal(overB.status, 403);
    assert.equal((await k.act(id, { createImage: { name: 'x', metadata: meta } }, 'demo', '2.39')).status, 202);
    await cloud.settle();
  });

  it('backs up with image_type backup and rotates out the oldest backups of that type', async () => {
    const id = await boot(cloud);
    const backup = async (name: string, type: string, rotation: number | string, version = '2.45') => {
      await cloud.clock.advance(1000);
      const res = await k.act(id, { createBackup: { name, backup_type: type, rotation } }, 'demo', version);
      assert.equal(res.status, 202, res.text);
      assert.equal((await k.row(id)).task_state, 'image_backup');
      await cloud.settle();
      return res;
    };
    const b1 = (await backup('b1', 'daily', 2)).body.image_id as string;
    const b2 = (await backup('b2', 'daily', '2')).body.image_id as string;
    const w1 = (await backup('w1', 'weekly', 5)).body.image_id as string;
    const b3 = (await backup('b3', 'daily', 2)).body.image_id as string;
    assert.equal(await k.image(b1), undefined, 'the oldest daily backup is rotated out');
    assert.equal((await k.image(b2))?.status, 'active');
    const img3 = await k.image(b3);
    assert.equal(img3?.status, 'active');
    assert.equal(img3?.image_type, 'backup');
    assert.equal(img3?.backup_type, 'daily');
    assert.equal(img3?.instance_uuid, id);
    assert.equal((await k.image(w1))?.status, 'active', 'other backup types are kept');
    await cloud.clock.advance(1000);
    const res = await k.act(id, { createBackup: { name: 'b4', backup_type: 'daily', rotation: 1 } }, 'demo', '2.1');
    assert.match(String(res.headers.location), /\/compute\/v2\.1\/images\/[0-9a-f-]{36}$/);
    await cloud.settle();
    assert.equal(await k.image(b2), undefined);
    assert.equal(await k.image(b3), undefined);
    await cloud.clock.advance(1000);
    const zero = await k.act(id, { createBackup: { name: 'b5', backup_type: 'daily', rotation: 0 } }, 'demo', '2.1');
    assert.equal(zero.status, 202);
    assert.equal(zero.headers.location, undefined, 'no Location when rotation is 0');
    await cloud.settle();
    assert.deepEqual(await backupsOf(cloud.db, id, 'daily'), [], 'rotation 0 removes every backup of the type');
    assert.equal((await k.image(w1))?.status, 'active');
    const { events } = await k.actionOf(zero);
    assert.deepEqual(events.map((e) => [e.event, e.result]), [['compute_backup_instance', 'Success']]);
  });

  it('reverts task_state, records a fault and deletes the image when the snapshot fails', async () => {
    const id = await boot(cloud);
    (await k.driverOf(id)).failNext('snapshot', { uuid: id, message: 'disk busy' });
    const res = await k.act(id, { createImage: { name: 'doomed' } }, 'demo', '2.45');
    assert.equal(res.status, 202);
    await cloud.settle();
    assert.equal(await k.image(res.body.image_id), undefined);
    const s = await k.row(id);
    assert.equal(s.vm_state, 'active');
    assert.equal(s.task_state, null);
    assert.equal((await k.faults(id)).at(-1)?.message, 'disk busy');
    const { action, events } = await k.actionOf(res);
    assert.equal(action?.message, 'Error');
    assert.equal(events[0]?.event, 'compute_snapshot_instance');
    assert.equal(events[0]?.result, 'Error');
    (await k.driverOf(id)).failNext('snapshot', { uuid: id });
    const b = await k.act(id, { createBackup: { name: 'doomed-b', backup_type: 'x', rotation: 1 } }, 'demo', '2.45');
    await cloud.settle();
    assert.equal(await k.image(b.body.image_id), undefined);
    assert.equal((await k.row(id)).task_state, null);
    assert.equal((await k.row(id)).power_state, PowerState.RUNNING);
  });
});
