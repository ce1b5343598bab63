import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestCloud, type TestCloud } from '../../helpers/cloud.js';
import { boot } from '../../helpers/servers.js';
import { assertPolicy, actionKit, readerToken } from '../../helpers/actions.js';

describe('actions: lock / unlock', () => {
  let cloud: TestCloud;
  let h: ReturnType<typeof actionKit>;
  before(async () => {
    cloud = await startTestCloud({ quotas: { instances: -1, cores: -1, ram: -1 } });
    h = actionKit(cloud);
  });
  after(async () => {
    await cloud.close();
  });

  it('locks and unlocks; `locked` shows from 2.9, `locked_reason` from 2.73', async () => {
    const id = await boot(cloud);
    assert.equal((await h.show(id, '2.9')).locked, false);
    const lock = await h.act(id, { lock: null });
    assert.equal(lock.status, 202);
    assert.equal(lock.text, '');
    assert.equal('locked' in (await h.show(id, '2.8')), false, 'no `locked` before 2.9');
    const v29 = await h.show(id, '2.9');
    assert.equal(v29.locked, true);
    assert.equal('locked_reason' in v29, false, 'no `locked_reason` before 2.73');
    const v273 = await h.show(id, '2.73');
    assert.equal(v273.locked, true);
    assert.equal(v273.locked_reason, null);
    assert.equal((await h.row(id)).locked_by, 'owner');
    const { action, events } = await h.actionOf(lock);
    assert.equal(action?.action, 'lock');
    assert.deepEqual(events.map((e) => [e.event, e.result]), [['api_lock', 'Success']]);

    const unlock = await h.act(id, { unlock: null });
    assert.equal(unlock.status, 202);
    const after = await h.show(id, '2.73');
    assert.equal(after.locked, false);
    assert.equal(after.locked_reason, null);
    assert.equal((await h.row(id)).locked_by, null);
    const un = await h.actionOf(unlock);
    assert.equal(un.action?.action, 'unlock');
    assert.deepEqual(un.events.map((e) => [e.event, e.result]), [['api_unlock', 'Success']]);
  });

  it('takes a locked_reason from 2.73 and validates it; earlier versions take any value and ignore it', async () => {
    const id = await boot(cloud);
    assert.equal((await h.act(id, { lock: { locked_reason: 'ignored' } }, 'demo', '2.72')).status, 202);
    assert.equal((await h.show(id, '2.73')).locked_reason, null);
    await h.act(id, { unlock: null });
    assert.equal((await h.act(id, { lock: 'anything' }, 'demo', '2.1')).status, 202);
    await h.act(id, { unlock: 'anything' });

    for (const body of [
      { lock: { locked_reason: '' } },
      { lock: { locked_reason: 'x'.repeat(256) } },
      { lock: { locked_reason: 42 } },
      { lock: { reason: 'typo' } },
      { lock: 'string' },
      { lock: [] },
    ]) {
      const res = await h.act(id, body, 'demo', '2.73');
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.equal(typeof res.body.badRequest.message, 'string');
    }
    assert.equal((await h.row(id)).locked, 0, 'nothing was locked by a bad body');

    assert.equal((await h.act(id, { lock: {} }, 'demo', '2.73')).status, 202);
    await h.act(id, { unlock: null });
    const reason = 'r'.repeat(255);
    assert.equal((await h.act(id, { lock: { locked_reason: reason } }, 'demo', '2.73')).status, 202);
    const shown = await h.show(id, '2.73');
    assert.equal(shown.locked, true);
    assert.equal(shown.locked_reason, reason);
    await h.act(id, { unlock: null }, 'demo', '2.73');
    assert.equal((await h.show(id, '2.73')).locked_reason, null, 'unlock clears the reason');
  });

  it('an owner re-locking a locked server changes nothing and records nothing', async () => {
    const id = await boot(cloud);
    await h.act(id, { lock: { locked_reason: 'first' } }, 'demo', '2.73');
    const again = await h.act(id, { lock: { locked_reason: 'second' } }, 'demo', '2.73');
    assert.equal(again.status, 202);
    assert.equal((await h.show(id, '2.73')).locked_reason, 'first');
    assert.equal((await h.actionOf(again)).action, undefined);
    const locks = await cloud.db.selectFrom('instance_actions').select('action').where('instance_uuid', '=', id).where('action', '=', 'lock').execute();
    assert.equal(locks.length, 1);
  });

  it('an admin lock needs unlock_override to be undone by the owner; admins may undo an owner lock', async () => {
    const id = await boot(cloud);
    assert.equal((await h.act(id, { lock: { locked_reason: 'maintenance' } }, 'admin', '2.73')).status, 202);
    assert.equal((await h.row(id)).locked_by, 'admin');
    assertPolicy(await h.act(id, { unlock: null }), 'os_compute_api:os-lock-server:unlock:unlock_override');
    assert.equal((await h.show(id, '2.73')).locked, true);
    assert.equal((await h.act(id, { unlock: null }, 'admin')).status, 202);
    assert.equal((await h.show(id, '2.73')).locked, false);

    await h.act(id, { lock: null });
    assert.equal((await h.row(id)).locked_by, 'owner');
    assert.equal((await h.act(id, { unlock: null }, 'admin')).status, 202, 'admins pass unlock_override');
    assert.equal((await h.row(id)).locked, 0);
  });

  it('an admin of another project re-locking takes the lock over, keeping the reason unless given', async () => {
    const id = await boot(cloud);
    await h.act(id, { lock: { locked_reason: 'mine' } }, 'demo', '2.73');
    const res = await h.act(id, { lock: null }, 'admin', '2.73');
    assert.equal(res.status, 202);
    const r = await h.row(id);
    assert.equal(r.locked_by, 'admin');
    assert.equal(r.locked_reason, 'mine');
    assert.equal((await h.actionOf(res)).action?.action, 'lock');
    assertPolicy(await h.act(id, { unlock: null }), 'os_compute_api:os-lock-server:unlock:unlock_override');
    await h.act(id, { unlock: null }, 'admin');
  });

  it('a locked server refuses lock-checked actions to members (409) but not to admins', async () => {
    const id = await boot(cloud);
    await h.act(id, { lock: null });
    const pause = await h.act(id, { pause: null });
    assert.deepEqual(pause.body, { conflictingRequest: { code: 409, message: `Instance ${id} is locked` } });
    const del = await cloud.request({ method: 'DELETE', url: `/compute/v2.1/servers/${id}` });
    assert.deepEqual(del.body, { conflictingRequest: { code: 409, message: `Instance ${id} is locked` } });
    assert.equal((await h.show(id)).status, 'ACTIVE');

    assert.equal((await h.act(id, { pause: null }, 'admin')).status, 202);
    await cloud.settle();
    assert.equal((await h.show(id)).status, 'PAUSED');
    assert.equal((await cloud.request({ method: 'DELETE', url: `/compute/v2.1/servers/${id}`, as: 'admin' })).status, 204);
    await cloud.settle();
    assert.equal((await cloud.request({ url: `/compute/v2.1/servers/${id}`, as: 'admin' })).status, 404);
  });

  it('unlocking lets members act again', async () => {
    const id = await boot(cloud);
    await h.act(id, { lock: null });
    assert.equal((await h.act(id, { pause: null })).status, 409);
    await h.act(id, { unlock: null });
    assert.equal((await h.act(id, { pause: null })).status, 202);
    await cloud.settle();
    assert.equal((await cloud.request({ method: 'DELETE', url: `/compute/v2.1/servers/${id}` })).status, 204);
    await cloud.settle();
  });

  it('lock and unlock are not lock-checked and work in any state, even with a task under way', async () => {
    const id = await boot(cloud);
    for (const [vm, task] of [['stopped', null], ['error', null], ['active', 'powering-off'], ['shelved_offloaded', null]] as const) {
      await h.force(id, { vm_state: vm, task_state: task });
      assert.equal((await h.act(id, { lock: null })).status, 202, vm);
      assert.equal((await h.act(id, { lock: null })).status, 202, 'owner re-lock');
      assert.equal((await h.act(id, { unlock: null })).status, 202, vm);
      assert.equal((await h.act(id, { unlock: null })).status, 202, 'unlocking an unlocked server');
      const r = await h.row(id);
      assert.equal(r.vm_state, vm);
      assert.equal(r.task_state, task);
    }
    await h.force(id, { vm_state: 'active', task_state: null });
  });

  it('hides another project\'s server and asks Nova\'s policies', async () => {
    const id = await boot(cloud);
    const other = await h.act(id, { lock: null }, 'alt_demo');
    assert.deepEqual(other.body, { itemNotFound: { code: 404, message: `Instance ${id} could not be found.` } });
    assert.equal((await h.act(id, { unlock: null }, 'alt_demo')).status, 404);
    const token = await readerToken(cloud, 'lock-reader');
    const as = { token };
    assertPolicy(await cloud.request({ method: 'POST', url: `/compute/v2.1/servers/${id}/action`, as, body: { lock: null } }), 'os_compute_api:os-lock-server:lock');
    assertPolicy(await cloud.request({ method: 'POST', url: `/compute/v2.1/servers/${id}/action`, as, body: { unlock: null } }), 'os_compute_api:os-lock-server:unlock');
    assert.equal((await h.row(id)).locked, 0);
  });

  it('lists by `locked` and sorts by it from 2.73; earlier versions ignore both', async () => {
    const c = await startTestCloud();
    try {
      const a = await boot(c, { name: 'a' });
      const b = await boot(c, { name: 'b' });
      await c.request({ method: 'POST', url: `/compute/v2.1/servers/${a}/action`, body: { lock: null } });
      const ids = async (query: string, version: string) => {
        const res = await c.request({ url: `/compute/v2.1/servers?${query}`, version });
        assert.equal(res.status, 200, res.text);
        return (res.body.servers as { id: string }[]).map((s) => s.id);
      };
      assert.deepEqual(await ids('locked=true', '2.73'), [a]);
      assert.deepEqual(await ids('locked=false', '2.73'), [b]);
      assert.deepEqual(await ids('locked=1', '2.90'), [a]);
      assert.deepEqual((await ids('locked=true', '2.72')).sort(), [a, b].sort(), 'filter ignored before 2.73');
      const bad = await c.request({ url: '/compute/v2.1/servers?locked=maybe', version: '2.73' });
      assert.equal(bad.status, 400);

      assert.deepEqual(await ids('sort_key=locked&sort_dir=desc', '2.73'), [a, b]);
      assert.deepEqual(await ids('sort_key=locked&sort_dir=asc', '2.73'), [b, a]);
      assert.equal((await c.request({ url: '/compute/v2.1/servers?sort_key=locked', version: '2.72' })).status, 200, 'ignored before 2.73');
      const detail = await c.request({ url: '/compute/v2.1/servers/detail?locked=true', version: '2.73' });
      assert.deepEqual(
        (detail.body.servers as { id: string; locked: boolean }[]).map((s) => [s.id, s.locked]),
        [[a, true]],
      );
    } finally {
      await c.close();
    }
  });
});
