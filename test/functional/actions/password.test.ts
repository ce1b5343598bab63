import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PowerState } from '../../../src/compute/states.js';
import { startTestCloud, type TestCloud } from '../../helpers/cloud.js';
import { boot } from '../../helpers/servers.js';
import { ALL_VM_STATES, assertPolicy, actionKit, readerToken, ticks } from '../../helpers/actions.js';

describe('action: changePassword', () => {
  let cloud: TestCloud;
  let h: ReturnType<typeof actionKit>;
  before(async () => {
    cloud = await startTestCloud({ quotas: { instances: -1, cores: -1, ram: -1 } });
    h = actionKit(cloud);
  });
  after(async () => {
    await cloud.close();
  });
  const change = (id: string, adminPass: unknown = 'n3w-Secret', as: 'demo' | 'admin' | 'alt_demo' = 'demo', version?: string) =>
    h.act(id, { changePassword: { adminPass } }, as, version);

  it('answers 202 once the host has set the password, and records the action', async () => {
    const id = await boot(cloud);
    const res = await change(id, 'n3w-Secret', 'demo', '2.95');
    assert.equal(res.status, 202);
    assert.equal(res.text, '');
    const after = await h.show(id);
    assert.equal(after.status, 'ACTIVE');
    assert.equal(after['OS-EXT-STS:task_state'], null, 'Nova waits for the host (an RPC call)');
    const { action, events } = await h.actionOf(res);
    assert.equal(action?.action, 'changePassword');
    assert.deepEqual(events.map((e) => [e.event, e.result]), [['compute_set_admin_password', 'Success']]);
    assert.ok(!JSON.stringify(events).includes('n3w-Secret'), 'the password is not recorded');
  });

  it('shows PASSWORD (task_state updating_password) while the host works', async () => {
    const slow = await startTestCloud({ compute: { timing: 'visible', step_ms: 1000 } });
    try {
      const s = actionKit(slow);
      const id = await boot(slow);
      const pending = s.act(id, { changePassword: { adminPass: 'x' } });
      await ticks();
      const during = await s.show(id);
      assert.equal(during.status, 'PASSWORD');
      assert.equal(during['OS-EXT-STS:task_state'], 'updating_password');
      assert.equal(
        s.conflictMsg(await s.act(id, { changePassword: { adminPass: 'y' } })),
        `Cannot 'changePassword' instance ${id} while it is in task_state updating_password`,
      );
      await slow.settle();
      assert.equal((await pending).status, 202);
      assert.equal((await s.show(id)).status, 'ACTIVE');
    } finally {
      await slow.close();
    }
  });

  it('is allowed from ACTIVE only, with task_state None', async () => {
    const id = await boot(cloud);
    for (const vm of ALL_VM_STATES) {
      if (vm === 'active') continue;
      await h.force(id, { vm_state: vm, task_state: null });
      assert.equal(h.conflictMsg(await change(id)), `Cannot 'changePassword' instance ${id} while it is in vm_state ${vm}`);
    }
    await h.force(id, { vm_state: 'active', task_state: 'pausing' });
    assert.equal(h.conflictMsg(await change(id)), `Cannot 'changePassword' instance ${id} while it is in task_state pausing`);
    await h.force(id, { vm_state: 'active', task_state: null, launched_at: null });
    assert.equal(h.conflictMsg(await change(id)), `Cannot 'changePassword' instance ${id} while it is in launched_at None`);
  });

  it('refuses a locked server to members with Nova\'s invalid-state message; admins may', async () => {
    const id = await boot(cloud);
    await h.act(id, { lock: null });
    const res = await change(id);
    assert.deepEqual(res.body, { conflictingRequest: { code: 409, message: `Instance ${id} is in an invalid state for 'changePassword'` } });
    assert.equal((await h.row(id)).task_state, null);
    assert.equal((await change(id, 'x', 'admin')).status, 202);
    await h.act(id, { unlock: null });
  });

  it('validates the body', async () => {
    const id = await boot(cloud);
    for (const body of [
      { changePassword: null },
      { changePassword: {} },
      { changePassword: { adminPass: 42 } },
      { changePassword: { adminPass: null } },
      { changePassword: { adminPass: 'x', extra: 1 } },
      { changePassword: 'x' },
    ]) {
      const res = await h.act(id, body);
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.equal(typeof res.body.badRequest.message, 'string');
    }
    assert.equal((await change(id, '')).status, 202, 'any string, even empty, as Nova');
  });

  it('answers 409 when the host cannot set it: task_state reverted, fault and failed event', async () => {
    const id = await boot(cloud);
    (await h.driverOf(id)).failNext('setAdminPassword', { uuid: id, message: 'agent timed out' });
    const res = await change(id);
    assert.deepEqual(res.body, {
      conflictingRequest: { code: 409, message: `Failed to set admin password on ${id} because error setting admin password` },
    });
    const after = await h.show(id);
    assert.equal(after.status, 'ACTIVE');
    assert.equal(after['OS-EXT-STS:task_state'], null);
    assert.equal((await h.faults(id)).at(-1)?.message, `Failed to set admin password on ${id} because error setting admin password`);
    const { action, events } = await h.actionOf(res);
    assert.equal(action?.message, 'Error');
    assert.equal(events[0]?.event, 'compute_set_admin_password');
    assert.equal(events[0]?.result, 'Error');
    assert.equal((await change(id)).status, 202, 'works again afterwards');
  });

  it('answers 409 when the guest is not running', async () => {
    const id = await boot(cloud);
    (await h.driverOf(id)).setPowerState(id, PowerState.SHUTDOWN);
    const res = await change(id);
    assert.equal(h.conflictMsg(res), `Failed to set admin password on ${id} because instance ${id} is not running`);
    assert.equal((await h.row(id)).task_state, null);
    (await h.driverOf(id)).setPowerState(id, PowerState.RUNNING);
  });

  it('hides another project\'s server (404), asks the policy (403), lets admins act', async () => {
    const id = await boot(cloud);
    assert.equal((await change(id, 'x', 'alt_demo')).status, 404);
    const token = await readerToken(cloud, 'pw-reader');
    assertPolicy(
      await cloud.request({ method: 'POST', url: `/compute/v2.1/servers/${id}/action`, as: { token }, body: { changePassword: { adminPass: 'x' } } }),
      'os_compute_api:os-admin-password',
    );
    assert.equal((await change(id, 'x', 'admin')).status, 202);
  });
});
