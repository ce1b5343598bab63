import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PowerState } from '../../../src/compute/states.js';
import { startTestCloud, type TestCloud } from '../../helpers/cloud.js';
import { boot, cirrosId } from '../../helpers/servers.js';
import { ALL_VM_STATES, actionKit } from '../../helpers/actions.js';

describe('action: rebuild', () => {
  let cloud: TestCloud;
  let k: ReturnType<typeof actionKit>;
  let cirros: string;
  let other: string;
  before(async () => {
    cloud = await startTestCloud({ quotas: { metadata_items: 3, instances: 100, cores: 200, ram: 512000 } });
    k = actionKit(cloud);
    cirros = await cirrosId(cloud);
    other = await k.makeImage('other');
  });
  after(async () => {
    await cloud.close();
  });

  it('rebuilds through REBUILD to ACTIVE with the new image (2.1 reduced answer, Location, adminPass)', async () => {
    const id = await boot(cloud, { name: 'old' });
    const before1 = await k.row(id);
    await cloud.clock.advance(5000);
    const res = await k.act(id, { rebuild: { imageRef: other, name: 'new', metadata: { a: '1' }, adminPass: 'sekrit' } });
    assert.equal(res.status, 202, res.text);
    assert.match(String(res.headers.location), new RegExp(`/compute/v2.1/servers/${id}$`));
    const s = res.body.server;
    assert.equal(s.status, 'REBUILD');
    assert.equal(s.name, 'new');
    assert.equal(s.image.id, other);
    assert.deepEqual(s.metadata, { a: '1' });
    assert.equal(s.adminPass, 'sekrit');
    assert.equal(s.progress, 0);
    for (const k2 of ['OS-EXT-STS:task_state', 'OS-EXT-AZ:availability_zone', 'config_drive', 'key_name', 'OS-SRV-USG:launched_at', 'security_groups', 'os-extended-volumes:volumes_attached', 'user_data']) {
      assert.equal(k2 in s, false, `${k2} is not in the 2.1 rebuild answer`);
    }
    for (const list of Object.values(s.addresses as Record<string, Record<string, unknown>[]>)) {
      for (const a of list) assert.deepEqual(Object.keys(a).sort(), ['addr', 'version']);
    }
    assert.equal((await k.row(id)).task_state, 'rebuilding');
    await cloud.settle();
    const done = await k.show(id);
    assert.equal(done.status, 'ACTIVE');
    assert.equal(done['OS-EXT-STS:task_state'], null);
    assert.equal(done['OS-EXT-STS:power_state'], PowerState.RUNNING);
    assert.equal((done.image as { id: string }).id, other);
    assert.notEqual((await k.row(id)).launched_at, before1.launched_at, 'launched_at is renewed');
    const { action, events } = await k.actionOf(res);
    assert.equal(action?.action, 'rebuild');
    assert.deepEqual(events.map((e) => [e.event, e.result]), [['compute_rebuild_instance', 'Success']]);
  });

  it('generates a password when none is given', async () => {
    const id = await boot(cloud);
    const res = await k.act(id, { rebuild: { imageRef: cirros } });
    assert.equal(res.status, 202);
    assert.match(res.body.server.adminPass, /^[A-Za-z0-9]{12}$/);
    await cloud.settle();
  });

  it('answers the full server from 2.75, with user_data (2.57) and key_name (2.54)', async () => {
    const kp = await cloud.request({ method: 'POST', url: '/compute/v2.1/os-keypairs', version: '2.2', body: { keypair: { name: 'k1' } } });
    assert.equal(kp.status, 201, kp.text);
    const id = await boot(cloud);
    const at257 = await k.act(id, { rebuild: { imageRef: cirros, key_name: 'k1', user_data: Buffer.from('hi').toString('base64') } }, 'demo', '2.57');
    assert.equal(at257.status, 202, at257.text);
    assert.equal(at257.body.server.key_name, 'k1');
    assert.equal(at257.body.server.user_data, Buffer.from('hi').toString('base64'));
    assert.equal('OS-EXT-STS:vm_state' in at257.body.server, false);
    await cloud.settle();
    const at275 = await k.act(id, { rebuild: { imageRef: cirros, key_name: null } }, 'admin', '2.75');
    assert.equal(at275.status, 202, at275.text);
    const s = at275.body.server;
    assert.equal(s['OS-EXT-STS:task_state'], 'rebuilding');
    assert.equal(s['OS-EXT-STS:vm_state'], 'active');
    assert.ok('OS-EXT-AZ:availability_zone' in s);
    assert.ok('OS-SRV-USG:launched_at' in s);
    assert.ok('OS-EXT-SRV-ATTR:host' in s, 'extended attributes for admins');
    assert.equal('OS-EXT-SRV-ATTR:user_data' in s, false, 'user_data is its own field, not the extended attribute');
    assert.equal(s.user_data, Buffer.from('hi').toString('base64'), 'user_data kept when not given');
    assert.equal(s.key_name, null, 'key_name null unsets the key');
    assert.deepEqual(s.server_groups, []);
    await cloud.settle();
    assert.equal((await k.row(id)).key_data, null);
  });

  it('shows rebuilding, rebuild_block_device_mapping and rebuild_spawning on the way', async () => {
    const slow = await startTestCloud({ compute: { timing: 'visible', step_ms: 1000 } });
    try {
      const s = actionKit(slow);
      const id = await boot(slow);
      const res = await s.act(id, { rebuild: { imageRef: await cirrosId(slow) } });
      assert.equal(res.status, 202);
      const seen = await s.trace(id, (r) => r.task_state === null);
      assert.deepEqual(seen, ['rebuilding', 'rebuild_block_device_mapping', 'rebuild_spawning', null]);
      assert.equal((await s.show(id)).status, 'ACTIVE');
      const busy = await s.act(id, { rebuild: { imageRef: await cirrosId(slow) } });
      assert.equal(busy.status, 202);
      const again = await s.act(id, { rebuild: { imageRef: await cirrosId(slow) } });
      assert.match(s.conflictMsg(again), new RegExp(`^Cannot 'rebuild' instance ${id} while it is in task_state rebuild`));
      await slow.settle();
    } finally {
      await slow.settle();
      await slow.close();
    }
  });

  it('keeps a stopped server stopped (through powering-off), brings an errored one back ACTIVE', async () => {
    const slow = await startTestCloud({ compute: { timing: 'visible', step_ms: 1000 } });
    try {
      const s = actionKit(slow);
      const id = await boot(slow);
      await s.force(id, { vm_state: 'stopped', power_state: PowerState.SHUTDOWN });
      (await s.driverOf(id)).setPowerState(id, PowerState.SHUTDOWN);
      assert.equal((await s.act(id, { rebuild: { imageRef: await cirrosId(slow) } })).status, 202);
      const seen = await s.trace(id, (r) => r.task_state === null);
      assert.deepEqual(seen, ['rebuilding', 'rebuild_block_device_mapping', 'rebuild_spawning', 'powering-off', null]);
      const stopped = await s.show(id);
      assert.equal(stopped.status, 'SHUTOFF');
      assert.equal(stopped['OS-EXT-STS:power_state'], PowerState.SHUTDOWN);
      const e = await boot(slow);
      await s.force(e, { vm_state: 'error' });
      assert.equal((await s.act(e, { rebuild: { imageRef: await cirrosId(slow) } })).status, 202);
      assert.equal((await s.show(e)).status, 'REBUILD', 'error + rebuilding shows REBUILD');
      await slow.settle();
      assert.equal((await s.show(e)).status, 'ACTIVE');
    } finally {
      await slow.settle();
      await slow.close();
    }
  });

  it('refuses every other vm_state, a task in progress and a never-launched server with 409', async () => {
    for (const vm of ALL_VM_STATES.filter((v) => !['active', 'stopped', 'error'].includes(v))) {
      const id = await boot(cloud);
      await k.force(id, { vm_state: vm });
      const res = await k.act(id, { rebuild: { imageRef: cirros } });
      assert.equal(k.conflictMsg(res), `Cannot 'rebuild' instance ${id} while it is in vm_state ${vm}`);
    }
    const busy = await boot(cloud);
    await k.force(busy, { task_state: 'pausing' });
    assert.equal(k.conflictMsg(await k.act(busy, { rebuild: { imageRef: cirros } })), `Cannot 'rebuild' instance ${busy} while it is in task_state pausing`);
    const never = await boot(cloud);
    await k.force(never, { vm_state: 'error', launched_at: null });
    assert.equal(k.conflictMsg(await k.act(never, { rebuild: { imageRef: cirros } })), `Cannot 'rebuild' instance ${never} while it is in launched_at None`);
  });

  it('refuses a locked server to its members but not to admins', async () => {
    const id = await boot(cloud);
    await k.force(id, { locked: 1, locked_by: 'owner' });
    assert.equal(k.conflictMsg(await k.act(id, { rebuild: { imageRef: cirros } })), `Instance ${id} is locked`);
    assert.equal((await k.act(id, { rebuild: { imageRef: cirros } }, 'admin')).status, 202);
    await cloud.settle();
  });

  it("hides another project's server (404); admins may rebuild any", async () => {
    const id = await boot(cloud);
    assert.equal((await k.act(id, { rebuild: { imageRef: cirros } }, 'alt_demo')).status, 404);
    assert.equal((await k.act(id, { rebuild: { imageRef: cirros } }, 'admin')).status, 202);
    await cloud.settle();
  });

  it('validates the body per microversion and the image, key pair and quotas', async () => {
    const id = await boot(cloud);
    const bad = async (body: unknown, version?: string) => k.act(id, body, 'demo', version);
    assert.equal((await bad({ rebuild: {} })).status, 400);
    assert.equal((await bad({ rebuild: { imageRef: 'not-a-uuid' } })).status, 400);
    assert.equal((await bad({ rebuild: { imageRef: cirros, bogus: 1 } })).status, 400);
    assert.equal((await bad({ rebuild: { imageRef: cirros, name: ' padded ' } })).status, 400);
    assert.equal((await bad({ rebuild: { imageRef: cirros, description: 'd' } }, '2.18')).status, 400, 'description from 2.19');
    assert.equal((await bad({ rebuild: { imageRef: cirros, key_name: 'k1' } }, '2.53')).status, 400, 'key_name from 2.54');
    assert.equal((await bad({ rebuild: { imageRef: cirros, user_data: 'aGk=' } }, '2.56')).status, 400, 'user_data from 2.57');
    assert.equal((await bad({ rebuild: { imageRef: cirros, personality: [] } }, '2.57')).status, 400, 'personality until 2.56');
    assert.equal((await bad({ rebuild: { imageRef: cirros, hostname: 'h' } }, '2.89')).status, 400, 'hostname from 2.90');
    assert.equal((await bad({ rebuild: { imageRef: cirros, trusted_image_certificates: ['x'] } }, '2.62')).status, 400);
    assert.match(k.badRequestMsg(await bad({ rebuild: { imageRef: cirros, user_data: '%%%' } }, '2.57')), /is not a 'base64'/);
    assert.equal(k.badRequestMsg(await bad({ rebuild: { imageRef: '00000000-0000-4000-8000-000000000000' } })), 'Cannot find image for rebuild');
    assert.equal(k.badRequestMsg(await bad({ rebuild: { imageRef: cirros, key_name: 'nope' } }, '2.54')), 'Invalid key_name provided.');
    const queued = await k.makeImage('queued', {}, false);
    assert.equal(k.badRequestMsg(await bad({ rebuild: { imageRef: queued } })), `Image ${queued} is not active.`);
    const big = await k.makeImage('big', { min_ram: 1_000_000 });
    assert.equal(k.badRequestMsg(await bad({ rebuild: { imageRef: big } })), "Flavor's memory is too small for requested image.");
    const many = await bad({ rebuild: { imageRef: cirros, metadata: { a: '1', b: '2', c: '3', d: '4' } } });
    assert.equal(many.status, 403);
    assert.equal(many.body.forbidden.message, 'Maximum number of metadata items exceeds 3');
    assert.equal((await k.row(id)).task_state, null, 'refused requests leave the server alone');
    const ok = await bad({ rebuild: { imageRef: cirros, description: 'new d', hostname: 'renamed', 'OS-DCF:diskConfig': 'AUTO', accessIPv4: '192.0.2.9' } }, '2.90');
    assert.equal(ok.status, 202, ok.text);
    assert.equal(ok.body.server.description, 'new d');
    assert.equal(ok.body.server['OS-EXT-SRV-ATTR:hostname'], 'renamed');
    assert.equal(ok.body.server['OS-DCF:diskConfig'], 'AUTO');
    assert.equal(ok.body.server.accessIPv4, '192.0.2.9');
    await cloud.settle();
  });

  it('sets ERROR with a fault and a failed event when the spawn fails', async () => {
    const id = await boot(cloud);
    (await k.driverOf(id)).failNext('spawn', { uuid: id, message: 'disk on fire' });
    const res = await k.act(id, { rebuild: { imageRef: cirros } });
    assert.equal(res.status, 202);
    await cloud.settle();
    const s = await k.show(id);
    assert.equal(s.status, 'ERROR');
    assert.equal(s['OS-EXT-STS:task_state'], null);
    assert.equal((s.fault as { message: string }).message, 'disk on fire');
    const { action, events } = await k.actionOf(res);
    assert.equal(action?.message, 'Error');
    assert.equal(events[0]?.event, 'compute_rebuild_instance');
    assert.equal(events[0]?.result, 'Error');
    // A server in ERROR may be rebuilt again.
    assert.equal((await k.act(id, { rebuild: { imageRef: cirros } })).status, 202);
    await cloud.settle();
    assert.equal((await k.show(id)).status, 'ACTIVE');
  });
});
