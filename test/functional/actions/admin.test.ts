import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { GuestNic } from '../../../src/virt/driver.js';
import { startTestCloud, type TestCloud } from '../../helpers/cloud.js';
import { boot } from '../../helpers/servers.js';
import { ALL_VM_STATES, assertPolicy, actionKit, ticks } from '../../helpers/actions.js';

describe('actions: os-resetState / injectNetworkInfo / resetNetwork', () => {
  let cloud: TestCloud;
  let h: ReturnType<typeof actionKit>;
  before(async () => {
    cloud = await startTestCloud({ quotas: { instances: -1, cores: -1, ram: -1 } });
    h = actionKit(cloud);
  });
  after(async () => {
    await cloud.close();
  });
  const reset = (id: string, state: unknown, as: 'demo' | 'admin' | 'alt_demo' = 'admin') => h.act(id, { 'os-resetState': { state } }, as);

  describe('os-resetState', () => {
    it('sets vm_state and clears task_state, from any state, and records the action finished', async () => {
      const id = await boot(cloud);
      const res = await reset(id, 'error');
      assert.equal(res.status, 202);
      assert.equal(res.text, '');
      const errored = await h.show(id);
      assert.equal(errored.status, 'ERROR');
      assert.equal(errored['OS-EXT-STS:vm_state'], 'error');
      const { action, events } = await h.actionOf(res);
      assert.equal(action?.action, 'resetState');
      assert.ok(action?.finish_time, 'finished at once');
      assert.deepEqual(events, []);

      for (const vm of ALL_VM_STATES) {
        await h.force(id, { vm_state: vm, task_state: 'rebooting' });
        assert.equal((await reset(id, 'active')).status, 202, vm);
        const r = await h.row(id);
        assert.equal(r.vm_state, 'active');
        assert.equal(r.task_state, null);
      }
      assert.equal((await h.show(id)).status, 'ACTIVE');
    });

    it('unsticks a server whose task is under way', async () => {
      const slow = await startTestCloud({ compute: { timing: 'visible', step_ms: 1000 } });
      try {
        const s = actionKit(slow);
        const id = await boot(slow);
        assert.equal((await s.act(id, { 'os-stop': null })).status, 202);
        await ticks();
        assert.equal((await s.show(id))['OS-EXT-STS:task_state'], 'powering-off');
        assert.equal((await s.act(id, { 'os-resetState': { state: 'active' } }, 'admin')).status, 202);
        assert.equal((await s.show(id))['OS-EXT-STS:task_state'], null);
        await slow.settle();
        // The host's result is not saved over the reset (its compare-and-swap fails).
        assert.equal((await s.show(id))['OS-EXT-STS:vm_state'], 'active');
      } finally {
        await slow.settle().catch(() => undefined);
        await slow.close();
      }
    });

    it('is not lock-checked', async () => {
      const id = await boot(cloud);
      await h.act(id, { lock: null });
      assert.equal((await reset(id, 'error')).status, 202);
      assert.equal((await h.show(id)).status, 'ERROR');
      await reset(id, 'active');
      await h.act(id, { unlock: null });
    });

    it('is admin-only by default; another project\'s server is 404 to members', async () => {
      const id = await boot(cloud);
      assertPolicy(await reset(id, 'error', 'demo'), 'os_compute_api:os-admin-actions:reset_state');
      assert.equal((await h.row(id)).vm_state, 'active');
      assert.equal((await reset(id, 'error', 'alt_demo')).status, 404);
    });

    it('takes only active or error', async () => {
      const id = await boot(cloud);
      for (const body of [
        { 'os-resetState': { state: 'stopped' } },
        { 'os-resetState': { state: 'ACTIVE' } },
        { 'os-resetState': {} },
        { 'os-resetState': { state: 'active', task_state: null } },
        { 'os-resetState': null },
      ]) {
        const res = await h.act(id, body, 'admin');
        assert.equal(res.status, 400, JSON.stringify(body));
        assert.equal(typeof res.body.badRequest.message, 'string');
      }
    });
  });

  describe('injectNetworkInfo', () => {
    it('is admin-only, answers 202 and has the host push the ports into the guest', async () => {
      const id = await boot(cloud);
      assertPolicy(await h.act(id, { injectNetworkInfo: null }), 'os_compute_api:os-admin-actions:inject_network_info');
      const before = (await h.faults(id)).length;
      const driver = await h.driverOf(id);
      const seen: GuestNic[][] = [];
      const original = driver.injectNetworkInfo.bind(driver);
      driver.injectNetworkInfo = (uuid: string, nics: GuestNic[]) => {
        if (uuid === id) seen.push(nics);
        return original(uuid, nics);
      };
      const res = await h.act(id, { injectNetworkInfo: null }, 'admin');
      assert.equal(res.status, 202);
      assert.equal(res.text, '');
      await cloud.settle();
      assert.equal((await h.faults(id)).length, before, 'no fault');
      const ports = await cloud.db.selectFrom('ports').selectAll().where('instance_uuid', '=', id).execute();
      assert.ok(ports.length > 0);
      assert.deepEqual(seen.at(-1)?.map((n) => n.mac).sort(), ports.map((p) => p.mac_address).sort());
      assert.ok(seen.at(-1)?.every((n) => n.ips.length > 0));
      assert.equal((await h.actionOf(res)).action, undefined, 'Nova records no instance action for it');
      assert.equal((await h.act(id, { injectNetworkInfo: {} }, 'admin')).status, 202, 'any value');
      await cloud.settle();
    });

    it('records a fault when the host fails', async () => {
      const id = await boot(cloud);
      (await h.driverOf(id)).failNext('injectNetworkInfo', { uuid: id, message: 'no guest agent' });
      assert.equal((await h.act(id, { injectNetworkInfo: null }, 'admin')).status, 202);
      await cloud.settle();
      assert.equal((await h.faults(id)).at(-1)?.message, 'no guest agent');
      const after = await h.show(id);
      assert.equal(after.status, 'ACTIVE');
      assert.equal(after['OS-EXT-STS:task_state'], null);
    });

    it('is lock-checked: a member the policy lets in gets 409 on a locked server, admins pass', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'stratus-inject-'));
      const file = join(dir, 'policy.yaml');
      writeFileSync(file, '"os_compute_api:os-admin-actions:inject_network_info": "rule:project_member_or_admin"\n');
      const open = await startTestCloud({ policy_file: file });
      try {
        const o = actionKit(open);
        const id = await boot(open);
        assert.equal((await o.act(id, { injectNetworkInfo: null })).status, 202);
        await o.act(id, { lock: null });
        assert.equal(o.conflictMsg(await o.act(id, { injectNetworkInfo: null })), `Instance ${id} is locked`);
        assert.equal((await o.act(id, { injectNetworkInfo: null }, 'admin')).status, 202);
        await open.settle();
      } finally {
        await open.close();
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  describe('resetNetwork', () => {
    it('is gone (410), whatever the body or the caller', async () => {
      const id = await boot(cloud);
      for (const as of ['admin', 'demo'] as const) {
        for (const value of [null, {}, 'x']) {
          const res = await h.act(id, { resetNetwork: value }, as);
          assert.equal(res.status, 410);
          assert.deepEqual(res.body, { computeFault: { code: 410, message: 'This resource is no longer available. No forwarding address is given.' } });
        }
      }
    });
  });
});
