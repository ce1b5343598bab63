import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PowerState } from '../../../src/compute/states.js';
import { startTestCloud, type TestCloud } from '../../helpers/cloud.js';
import { boot } from '../../helpers/servers.js';
import { ALL_VM_STATES, actionKit } from '../../helpers/actions.js';

describe('action: rescue / unrescue', () => {
  let cloud: TestCloud;
  let k: ReturnType<typeof actionKit>;
  before(async () => {
    cloud = await startTestCloud({ quotas: { instances: 100, cores: 200, ram: 512000 } });
    k = actionKit(cloud);
  });
  after(async () => {
    await cloud.close();
  });

  it('rescues through rescuing to RESCUE answering 200 with a generated password, then unrescues to ACTIVE', async () => {
    const id = await boot(cloud);
    const res = await k.act(id, { rescue: null });
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(Object.keys(res.body), ['adminPass']);
    assert.match(res.body.adminPass, /^[A-Za-z0-9]{12}$/);
    assert.equal((await k.row(id)).task_state, 'rescuing');
    await cloud.settle();
    const rescued = await k.show(id);
    assert.equal(rescued.status, 'RESCUE');
    assert.equal(rescued['OS-EXT-STS:vm_state'], 'rescued');
    assert.equal(rescued['OS-EXT-STS:power_state'], PowerState.RUNNING);
    const { action, events } = await k.actionOf(res);
    assert.equal(action?.action, 'rescue');
    assert.deepEqual(events.map((e) => [e.event, e.result]), [['compute_rescue_instance', 'Success']]);
    const un = await k.act(id, { unrescue: null });
    assert.equal(un.status, 202);
    assert.equal(un.text, '');
    assert.equal((await k.row(id)).task_state, 'unrescuing');
    await cloud.settle();
    assert.equal((await k.show(id)).status, 'ACTIVE');
    assert.equal((await k.actionOf(un)).events[0]?.event, 'compute_unrescue_instance');
  });

  it('uses the given password and rescue image', async () => {
    const id = await boot(cloud);
    const rescueImage = await k.makeImage('rescue-img');
    const res = await k.act(id, { rescue: { adminPass: 'letmein', rescue_image_ref: rescueImage } });
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.body, { adminPass: 'letmein' });
    await cloud.settle();
    assert.match(await (await k.driverOf(id)).consoleOutput(id), new RegExp(`Booting rescue image ${rescueImage}`));
    await k.act(id, { unrescue: null });
    await cloud.settle();
  });

  it('rescues stopped and errored servers too, and refuses other vm_states with 409', async () => {
    const stopped = await boot(cloud);
    await k.force(stopped, { vm_state: 'stopped', power_state: PowerState.SHUTDOWN });
    (await k.driverOf(stopped)).setPowerState(stopped, PowerState.SHUTDOWN);
    assert.equal((await k.act(stopped, { rescue: null })).status, 200);
    const errored = await boot(cloud);
    await k.force(errored, { vm_state: 'error' });
    assert.equal((await k.act(errored, { rescue: null })).status, 200);
    await cloud.settle();
    assert.equal((await k.show(stopped)).status, 'RESCUE');
    assert.equal((await k.show(errored)).status, 'RESCUE');
    for (const vm of ALL_VM_STATES.filter((v) => !['active', 'stopped', 'error'].includes(v))) {
      const id = await boot(cloud);
      await k.force(id, { vm_state: vm });
      assert.equal(k.conflictMsg(await k.act(id, { rescue: null })), `Cannot 'rescue' instance ${id} while it is in vm_state ${vm}`);
    }
    for (const vm of ALL_VM_STATES.filter((v) => v !== 'rescued')) {
      const id = await boot(cloud);
      await k.force(id, { vm_state: vm });
      assert.equal(k.conflictMsg(await k.act(id, { unrescue: null })), `Cannot 'unrescue' instance ${id} while it is in vm_state ${vm}`);
    }
    const busy = await boot(cloud);
    await k.force(busy, { task_state: 'pausing' });
    assert.equal(k.conflictMsg(await k.act(busy, { rescue: null })), `Cannot 'rescue' instance ${busy} while it is in task_state pausing`);
    await k.force(busy, { vm_state: 'rescued', task_state: 'rescuing' });
    assert.equal(k.conflictMsg(await k.act(busy, { unrescue: null })), `Cannot 'unrescue' instance ${busy} while it is in task_state rescuing`);
  });

  it('is lock-checked for members, not for admins', async () => {
    const id = await boot(cloud);
    await k.force(id, { locked: 1, locked_by: 'admin' });
    assert.equal(k.conflictMsg(await k.act(id, { rescue: null })), `Instance ${id} is locked`);
    assert.equal((await k.act(id, { rescue: null }, 'admin')).status, 200);
    await cloud.settle();
    assert.equal(k.conflictMsg(await k.act(id, { unrescue: null })), `Instance ${id} is locked`);
    assert.equal((await k.act(id, { unrescue: null }, 'admin')).status, 202);
    await cloud.settle();
  });

  it("hides another project's server (404); admins may rescue any", async () => {
    const id = await boot(cloud);
    assert.equal((await k.act(id, { rescue: null }, 'alt_demo')).status, 404);
    assert.equal((await k.act(id, { unrescue: null }, 'alt_demo')).status, 404);
    assert.equal((await k.act(id, { rescue: null }, 'admin')).status, 200);
    await cloud.settle();
  });

  it('validates the body and the rescue image', async () => {
    const id = await boot(cloud);
    assert.equal((await k.act(id, { rescue: { bogus: 1 } })).status, 400);
    assert.equal((await k.act(id, { rescue: { rescue_image_ref: 'nope' } })).status, 400);
    assert.equal((await k.act(id, { rescue: { adminPass: 5 } })).status, 400);
    assert.equal((await k.act(id, { rescue: 'x' })).status, 400);
    const missing = '00000000-0000-4000-8000-000000000000';
    assert.equal(k.badRequestMsg(await k.act(id, { rescue: { rescue_image_ref: missing } })), `Requested rescue image '${missing}' is not supported`);
    assert.equal((await k.row(id)).task_state, null);
  });

  it('sets ERROR with a fault when the hypervisor cannot rescue or unrescue', async () => {
    const id = await boot(cloud);
    (await k.driverOf(id)).failNext('rescue', { uuid: id, message: 'no rescue disk' });
    const res = await k.act(id, { rescue: null });
    assert.equal(res.status, 200);
    await cloud.settle();
    const s = await k.show(id);
    assert.equal(s.status, 'ERROR');
    assert.equal(s['OS-EXT-STS:task_state'], null);
    assert.equal((s.fault as { message: string }).message, `Instance ${id} cannot be rescued: Driver Error: no rescue disk`);
    const { action, events } = await k.actionOf(res);
    assert.equal(action?.message, 'Error');
    assert.equal(events[0]?.result, 'Error');

    const other = await boot(cloud);
    await k.act(other, { rescue: null });
    await cloud.settle();
    (await k.driverOf(other)).failNext('unrescue', { uuid: other, message: 'stuck' });
    const un = await k.act(other, { unrescue: null });
    assert.equal(un.status, 202);
    await cloud.settle();
    assert.equal((await k.show(other)).status, 'ERROR');
    assert.equal((await k.actionOf(un)).events[0]?.result, 'Error');
  });
});
