import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { statusOf } from '../../../src/compute/states.js';
import { startTestCloud, type TestCloud } from '../../helpers/cloud.js';
import { boot } from '../../helpers/servers.js';
import { ALL_VM_STATES, assertPolicy, actionKit, readerToken, ticks } from '../../helpers/actions.js';

describe('actions: os-start / os-stop / reboot / suspend / resume / trigger_crash_dump', () => {
  let cloud: TestCloud;
  let h: ReturnType<typeof actionKit>;
  before(async () => {
    cloud = await startTestCloud({ quotas: { instances: -1, cores: -1, ram: -1 } });
    h = actionKit(cloud);
  });
  after(async () => {
    await cloud.close();
  });

  /** A cloud whose virt steps take a visible second, to observe transitional states. */
  async function withSlowCloud(fn: (slow: TestCloud, s: ReturnType<typeof actionKit>) => Promise<void>): Promise<void> {
    const slow = await startTestCloud({ compute: { timing: 'visible', step_ms: 1000 } });
    try {
      await fn(slow, actionKit(slow));
    } finally {
      await slow.settle().catch(() => undefined);
      await slow.close();
    }
  }

  describe('os-stop and os-start', () => {
    it('stops through powering-off to SHUTOFF (power_state 4) and starts back to ACTIVE', async () => {
      const id = await boot(cloud);
      const stop = await h.act(id, { 'os-stop': null });
      assert.equal(stop.status, 202);
      assert.equal(stop.text, '');
      assert.equal((await h.show(id))['OS-EXT-STS:task_state'], 'powering-off');
      await cloud.settle();
      const stopped = await h.show(id);
      assert.equal(stopped.status, 'SHUTOFF');
      assert.equal(stopped['OS-EXT-STS:vm_state'], 'stopped');
      assert.equal(stopped['OS-EXT-STS:power_state'], 4);
      assert.equal(stopped['OS-EXT-STS:task_state'], null);
      const { action, events } = await h.actionOf(stop);
      assert.equal(action?.action, 'stop');
      assert.deepEqual(events.map((e) => [e.event, e.result]), [['compute_stop_instance', 'Success']]);

      const start = await h.act(id, { 'os-start': null }, 'demo', '2.95');
      assert.equal(start.status, 202);
      assert.equal((await h.show(id))['OS-EXT-STS:task_state'], 'powering-on');
      await cloud.settle();
      const started = await h.show(id);
      assert.equal(started.status, 'ACTIVE');
      assert.equal(started['OS-EXT-STS:power_state'], 1);
      const ev = await h.actionOf(start);
      assert.equal(ev.action?.action, 'start');
      assert.deepEqual(ev.events.map((e) => [e.event, e.result]), [['compute_start_instance', 'Success']]);
    });

    it('accepts any value for the body key, as Nova does', async () => {
      const id = await boot(cloud);
      assert.equal((await h.act(id, { 'os-stop': {} })).status, 202);
      await cloud.settle();
      assert.equal((await h.act(id, { 'os-start': 'yes' })).status, 202);
      await cloud.settle();
      assert.equal((await h.show(id)).status, 'ACTIVE');
    });

    it('stops a server in ERROR', async () => {
      const id = await boot(cloud);
      assert.equal((await h.act(id, { 'os-resetState': { state: 'error' } }, 'admin')).status, 202);
      assert.equal((await h.act(id, { 'os-stop': null })).status, 202);
      await cloud.settle();
      assert.equal((await h.show(id)).status, 'SHUTOFF');
    });

    it('shows powering-off while the host works, and refuses a second request meanwhile', async () => {
      await withSlowCloud(async (slow, s) => {
        const id = await boot(slow);
        assert.equal((await s.act(id, { 'os-stop': null })).status, 202);
        await ticks();
        const during = await s.show(id);
        assert.equal(during.status, 'ACTIVE');
        assert.equal(during['OS-EXT-STS:task_state'], 'powering-off');
        assert.equal(s.conflictMsg(await s.act(id, { 'os-stop': null })), `Cannot 'stop' instance ${id} while it is in task_state powering-off`);
        await slow.settle();
        assert.equal((await s.show(id)).status, 'SHUTOFF');
      });
    });

    it('refuses every vm_state Nova refuses, with its message', async () => {
      const id = await boot(cloud);
      for (const vm of ALL_VM_STATES) {
        await h.force(id, { vm_state: vm, task_state: null });
        const start = await h.act(id, { 'os-start': null });
        if (vm === 'stopped') assert.equal(start.status, 202);
        else assert.equal(h.conflictMsg(start), `Cannot 'start' instance ${id} while it is in vm_state ${vm}`);
        await cloud.settle();
        await h.force(id, { vm_state: vm, task_state: null });
        const stop = await h.act(id, { 'os-stop': null });
        if (vm === 'active' || vm === 'error') assert.equal(stop.status, 202);
        else assert.equal(h.conflictMsg(stop), `Cannot 'stop' instance ${id} while it is in vm_state ${vm}`);
        await cloud.settle();
      }
      await cloud.settle();
    });

    it('needs a host (checked before the state, as Nova does) and a launched server', async () => {
      const id = await boot(cloud);
      await h.force(id, { host: null, vm_state: 'shelved_offloaded' });
      assert.equal(h.conflictMsg(await h.act(id, { 'os-start': null })), `Instance ${id} is not ready`);
      assert.equal(h.conflictMsg(await h.act(id, { 'os-stop': null })), `Instance ${id} is not ready`);
      const other = await boot(cloud);
      await h.force(other, { vm_state: 'stopped', launched_at: null });
      assert.equal(h.conflictMsg(await h.act(other, { 'os-start': null })), `Cannot 'start' instance ${other} while it is in launched_at None`);
    });

    it('lets exactly one of two racing stops win', async () => {
      const id = await boot(cloud);
      const [a, b] = await Promise.all([h.act(id, { 'os-stop': null }), h.act(id, { 'os-stop': null })]);
      assert.deepEqual([a.status, b.status].sort(), [202, 409]);
      await cloud.settle();
    });

    it('reverts the task_state and records the fault when the host fails', async () => {
      const id = await boot(cloud);
      (await h.driverOf(id)).failNext('powerOff', { uuid: id, message: 'acpi said no' });
      const res = await h.act(id, { 'os-stop': null });
      assert.equal(res.status, 202);
      await cloud.settle();
      const after = await h.show(id);
      assert.equal(after.status, 'ACTIVE');
      assert.equal(after['OS-EXT-STS:task_state'], null);
      assert.equal((await h.faults(id)).at(-1)?.message, 'acpi said no');
      const { action, events } = await h.actionOf(res);
      assert.equal(action?.message, 'Error');
      assert.equal(events[0]?.event, 'compute_stop_instance');
      assert.equal(events[0]?.result, 'Error');
      assert.match(events[0]?.traceback ?? '', /acpi said no/);

      await h.act(id, { 'os-stop': null });
      await cloud.settle();
      (await h.driverOf(id)).failNext('powerOn', { uuid: id, message: 'no power' });
      assert.equal((await h.act(id, { 'os-start': null })).status, 202);
      await cloud.settle();
      const still = await h.show(id);
      assert.equal(still.status, 'SHUTOFF');
      assert.equal(still['OS-EXT-STS:task_state'], null);
    });
  });

  describe('reboot', () => {
    it('SOFT: walks rebooting → reboot_pending → reboot_started (status REBOOT) to ACTIVE', async () => {
      await withSlowCloud(async (slow, s) => {
        const id = await boot(slow);
        const seen = new Set<string>();
        const res = await s.act(id, { reboot: { type: 'SOFT' } });
        assert.equal(res.status, 202);
        assert.equal(res.text, '');
        const first = await s.show(id);
        assert.equal(first.status, 'REBOOT');
        seen.add(first['OS-EXT-STS:task_state']);
        await ticks();
        const during = await s.show(id);
        assert.equal(during.status, 'REBOOT');
        assert.equal(during['OS-EXT-STS:task_state'], 'reboot_started');
        seen.add(during['OS-EXT-STS:task_state']);
        await slow.settle();
        const done = await s.show(id);
        assert.equal(done.status, 'ACTIVE');
        assert.equal(done['OS-EXT-STS:power_state'], 1);
        assert.equal(done['OS-EXT-STS:task_state'], null);
        assert.ok([...seen].every((t) => ['rebooting', 'reboot_pending', 'reboot_started'].includes(t)), [...seen].join());
        const { action, events } = await s.actionOf(res);
        assert.equal(action?.action, 'reboot');
        assert.deepEqual(events.map((e) => [e.event, e.result]), [['compute_reboot_instance', 'Success']]);
      });
    });

    it('HARD: walks the _hard task_states (HARD_REBOOT when ACTIVE) and ends ACTIVE and running from stopped, paused, suspended and error', async () => {
      await withSlowCloud(async (slow, s) => {
        const id = await boot(slow);
        const into: Record<string, () => Promise<void>> = {
          active: async () => undefined,
          stopped: async () => {
            assert.equal((await s.act(id, { 'os-stop': null })).status, 202);
          },
          paused: async () => {
            assert.equal((await s.act(id, { pause: null })).status, 202);
          },
          suspended: async () => {
            assert.equal((await s.act(id, { suspend: null })).status, 202);
          },
          error: async () => {
            assert.equal((await s.act(id, { 'os-resetState': { state: 'error' } }, 'admin')).status, 202);
          },
        };
        for (const [vm, go] of Object.entries(into)) {
          await go();
          await slow.settle();
          assert.equal((await s.show(id))['OS-EXT-STS:vm_state'], vm);
          assert.equal((await s.act(id, { reboot: { type: 'hard' } }, 'demo', '2.1')).status, 202, vm);
          await ticks();
          const during = await s.show(id);
          // Only an ACTIVE server shows HARD_REBOOT; Nova's status map keeps the others as they were.
          assert.equal(during.status, statusOf(vm, 'reboot_started_hard'), vm);
          assert.equal(during.status, vm === 'active' ? 'HARD_REBOOT' : vm === 'stopped' ? 'SHUTOFF' : vm.toUpperCase(), vm);
          assert.equal(during['OS-EXT-STS:task_state'], 'reboot_started_hard');
          await slow.settle();
          const done = await s.show(id);
          assert.equal(done.status, 'ACTIVE', vm);
          assert.equal(done['OS-EXT-STS:power_state'], 1, vm);
        }
      });
    });

    it('HARD is allowed over the task_states Nova lists, SOFT only from None', async () => {
      await withSlowCloud(async (slow, s) => {
        const id = await boot(slow);
        assert.equal((await s.act(id, { pause: null })).status, 202);
        assert.equal(s.conflictMsg(await s.act(id, { reboot: { type: 'SOFT' } })), `Cannot 'reboot' instance ${id} while it is in task_state pausing`);
        assert.equal((await s.act(id, { reboot: { type: 'HARD' } })).status, 202, 'HARD over pausing');
        await slow.settle();
        const done = await s.show(id);
        assert.equal(done.status, 'ACTIVE');
        assert.equal(done['OS-EXT-STS:task_state'], null);

        assert.equal((await s.act(id, { reboot: { type: 'SOFT' } })).status, 202);
        assert.equal((await s.act(id, { reboot: { type: 'HARD' } })).status, 202, 'HARD over a SOFT reboot');
        await slow.settle();
        assert.equal((await s.show(id)).status, 'ACTIVE');

        assert.equal((await s.act(id, { 'os-stop': null })).status, 202);
        assert.equal(s.conflictMsg(await s.act(id, { reboot: { type: 'HARD' } })), `Cannot 'reboot' instance ${id} while it is in task_state powering-off`);
        await slow.settle();
      });
      const id = await boot(cloud);
      for (const task of ['rebooting', 'reboot_pending', 'reboot_started', 'resuming', 'rebooting_hard', 'unpausing', 'pausing', 'suspending']) {
        await h.force(id, { task_state: task });
        assert.equal((await h.act(id, { reboot: { type: 'HARD' } })).status, 202, task);
        await cloud.settle();
      }
      for (const task of ['reboot_pending_hard', 'reboot_started_hard', 'powering-on', 'deleting', 'image_snapshot']) {
        await h.force(id, { task_state: task });
        assert.equal(h.conflictMsg(await h.act(id, { reboot: { type: 'HARD' } })), `Cannot 'reboot' instance ${id} while it is in task_state ${task}`);
      }
      await h.force(id, { task_state: null });
      await cloud.settle();
    });

    it('refuses every vm_state Nova refuses, for SOFT and HARD', async () => {
      const id = await boot(cloud);
      const hardOk = ['active', 'stopped', 'paused', 'suspended', 'error'];
      for (const vm of ALL_VM_STATES) {
        await h.force(id, { vm_state: vm, task_state: null });
        const soft = await h.act(id, { reboot: { type: 'Soft' } });
        if (vm === 'active') assert.equal(soft.status, 202);
        else assert.equal(h.conflictMsg(soft), `Cannot 'reboot' instance ${id} while it is in vm_state ${vm}`);
        await cloud.settle();
        await h.force(id, { vm_state: vm, task_state: null });
        const hard = await h.act(id, { reboot: { type: 'HARD' } });
        if (hardOk.includes(vm)) assert.equal(hard.status, 202, vm);
        else assert.equal(h.conflictMsg(hard), `Cannot 'reboot' instance ${id} while it is in vm_state ${vm}`);
        await cloud.settle();
      }
      await h.force(id, { vm_state: 'active', task_state: null });
      await cloud.settle();
    });

    it('refuses a server that never launched', async () => {
      const id = await boot(cloud);
      await h.force(id, { vm_state: 'error', launched_at: null });
      assert.equal(h.conflictMsg(await h.act(id, { reboot: { type: 'HARD' } })), `Cannot 'reboot' instance ${id} while it is in launched_at None`);
      assert.equal((await h.row(id)).task_state, null, 'nothing was taken');
    });

    it('validates the body', async () => {
      const id = await boot(cloud);
      for (const body of [{ reboot: null }, { reboot: {} }, { reboot: { type: 'MEDIUM' } }, { reboot: { type: 'SOFT', force: true } }, { reboot: 'SOFT' }]) {
        const res = await h.act(id, body);
        assert.equal(res.status, 400, JSON.stringify(body));
        assert.equal(typeof res.body.badRequest.message, 'string');
      }
      assert.equal((await h.row(id)).task_state, null);
    });

    it('SOFT failing with the guest still running: fault recorded, server stays ACTIVE', async () => {
      const id = await boot(cloud);
      (await h.driverOf(id)).failNext('reboot', { uuid: id, message: 'guest ignored ACPI' });
      const res = await h.act(id, { reboot: { type: 'SOFT' } });
      assert.equal(res.status, 202);
      await cloud.settle();
      const after = await h.show(id);
      assert.equal(after.status, 'ACTIVE');
      assert.equal(after['OS-EXT-STS:task_state'], null);
      assert.equal((await h.faults(id)).at(-1)?.message, 'guest ignored ACPI');
      const { events } = await h.actionOf(res);
      assert.equal(events[0]?.result, 'Success', 'Nova swallows the error when the guest runs');
    });

    it('HARD failing with the guest off: ERROR with the fault, failed event', async () => {
      const id = await boot(cloud);
      await h.act(id, { 'os-stop': null });
      await cloud.settle();
      (await h.driverOf(id)).failNext('reboot', { uuid: id, message: 'disk gone' });
      const res = await h.act(id, { reboot: { type: 'HARD' } });
      assert.equal(res.status, 202);
      await cloud.settle();
      const after = await h.show(id);
      assert.equal(after.status, 'ERROR');
      assert.equal(after['OS-EXT-STS:task_state'], null);
      assert.equal(after.fault.message, 'disk gone');
      assert.equal(after.fault.code, 500);
      const { action, events } = await h.actionOf(res);
      assert.equal(action?.message, 'Error');
      assert.equal(events[0]?.result, 'Error');
      // A HARD reboot is the way out of ERROR.
      assert.equal((await h.act(id, { reboot: { type: 'HARD' } })).status, 202);
      await cloud.settle();
      assert.equal((await h.show(id)).status, 'ACTIVE');
    });
  });

  describe('suspend and resume', () => {
    it('suspends to SUSPENDED (power_state 7) and resumes to ACTIVE', async () => {
      const id = await boot(cloud);
      const res = await h.act(id, { suspend: null });
      assert.equal(res.status, 202);
      assert.equal((await h.show(id))['OS-EXT-STS:task_state'], 'suspending');
      await cloud.settle();
      const suspended = await h.show(id);
      assert.equal(suspended.status, 'SUSPENDED');
      assert.equal(suspended['OS-EXT-STS:power_state'], 7);
      assert.deepEqual((await h.actionOf(res)).events.map((e) => [e.event, e.result]), [['compute_suspend_instance', 'Success']]);
      const resume = await h.act(id, { resume: {} });
      assert.equal(resume.status, 202);
      assert.equal((await h.show(id))['OS-EXT-STS:task_state'], 'resuming');
      await cloud.settle();
      const resumed = await h.show(id);
      assert.equal(resumed.status, 'ACTIVE');
      assert.equal(resumed['OS-EXT-STS:power_state'], 1);
      assert.equal((await h.actionOf(resume)).action?.action, 'resume');
    });

    it('refuses the vm_states and task_states Nova refuses', async () => {
      const id = await boot(cloud);
      for (const vm of ALL_VM_STATES) {
        await h.force(id, { vm_state: vm, task_state: null });
        const s = await h.act(id, { suspend: null });
        if (vm === 'active') assert.equal(s.status, 202);
        else assert.equal(h.conflictMsg(s), `Cannot 'suspend' instance ${id} while it is in vm_state ${vm}`);
        await cloud.settle();
        await h.force(id, { vm_state: vm, task_state: null });
        const r = await h.act(id, { resume: null });
        if (vm === 'suspended') assert.equal(r.status, 202);
        else assert.equal(h.conflictMsg(r), `Cannot 'resume' instance ${id} while it is in vm_state ${vm}`);
        await cloud.settle();
      }
      await h.force(id, { vm_state: 'active', task_state: 'pausing' });
      assert.equal(h.conflictMsg(await h.act(id, { suspend: null })), `Cannot 'suspend' instance ${id} while it is in task_state pausing`);
      await h.force(id, { vm_state: 'active', task_state: null });
      await cloud.settle();
    });

    it('reverts the task_state on a driver failure', async () => {
      const id = await boot(cloud);
      (await h.driverOf(id)).failNext('suspend', { uuid: id, message: 'no room for memory' });
      const res = await h.act(id, { suspend: null });
      await cloud.settle();
      const after = await h.show(id);
      assert.equal(after.status, 'ACTIVE');
      assert.equal(after['OS-EXT-STS:task_state'], null);
      assert.equal((await h.faults(id)).at(-1)?.message, 'no room for memory');
      assert.equal((await h.actionOf(res)).events[0]?.result, 'Error');
    });
  });

  describe('trigger_crash_dump', () => {
    it('exists from 2.17 only (404 below)', async () => {
      const id = await boot(cloud);
      const old = await h.act(id, { trigger_crash_dump: null }, 'demo', '2.16');
      assert.equal(old.status, 404);
      const res = await h.act(id, { trigger_crash_dump: null }, 'demo', '2.17');
      assert.equal(res.status, 202);
      assert.equal(res.text, '');
      assert.equal((await h.row(id)).task_state, null, 'no task_state');
      await cloud.settle();
      const after = await h.show(id);
      assert.equal(after.status, 'ACTIVE');
      const { action, events } = await h.actionOf(res);
      assert.equal(action?.action, 'trigger_crash_dump');
      assert.deepEqual(events.map((e) => [e.event, e.result]), [['compute_trigger_crash_dump', 'Success']]);
      assert.match(await (await h.driverOf(id)).consoleOutput(id), /NMI/, 'the guest got the NMI');
    });

    it('takes only null', async () => {
      const id = await boot(cloud);
      assert.equal((await h.act(id, { trigger_crash_dump: {} }, 'demo', '2.17')).status, 400);
      assert.equal((await h.act(id, { trigger_crash_dump: true }, 'demo', '2.17')).status, 400);
    });

    it('allows active, paused, rescued, resized and error; needs a host and task_state None', async () => {
      const id = await boot(cloud);
      const ok = ['active', 'paused', 'rescued', 'resized', 'error'];
      for (const vm of ALL_VM_STATES) {
        await h.force(id, { vm_state: vm, task_state: null });
        const res = await h.act(id, { trigger_crash_dump: null }, 'demo', '2.17');
        if (ok.includes(vm)) assert.equal(res.status, 202, vm);
        else assert.equal(h.conflictMsg(res), `Cannot 'trigger_crash_dump' instance ${id} while it is in vm_state ${vm}`);
        await cloud.settle();
      }
      await h.force(id, { vm_state: 'active', task_state: 'pausing' });
      assert.equal(
        h.conflictMsg(await h.act(id, { trigger_crash_dump: null }, 'demo', '2.17')),
        `Cannot 'trigger_crash_dump' instance ${id} while it is in task_state pausing`,
      );
      await h.force(id, { host: null, task_state: null });
      assert.equal(h.conflictMsg(await h.act(id, { trigger_crash_dump: null }, 'demo', '2.17')), `Instance ${id} is not ready`);
      await cloud.settle();
    });

    it('records a driver failure as a fault and a failed event, state untouched', async () => {
      const id = await boot(cloud);
      (await h.driverOf(id)).failNext('triggerCrashDump', { uuid: id, message: 'NMI not supported' });
      const res = await h.act(id, { trigger_crash_dump: null }, 'demo', '2.17');
      assert.equal(res.status, 202);
      await cloud.settle();
      const after = await h.show(id);
      assert.equal(after.status, 'ACTIVE');
      assert.equal((await h.faults(id)).at(-1)?.message, 'NMI not supported');
      const { action, events } = await h.actionOf(res);
      assert.equal(action?.message, 'Error');
      assert.equal(events[0]?.result, 'Error');
    });
  });

  describe('lock and policy', () => {
    it('refuses every power action on a locked server to members, allows admins; lock is checked before state', async () => {
      const id = await boot(cloud);
      assert.equal((await h.act(id, { lock: null })).status, 202);
      const bodies: [unknown, string?][] = [
        [{ 'os-stop': null }], [{ 'os-start': null }], [{ reboot: { type: 'SOFT' } }], [{ reboot: { type: 'HARD' } }],
        [{ suspend: null }], [{ resume: null }], [{ trigger_crash_dump: null }, '2.17'],
      ];
      for (const [body, v] of bodies) {
        assert.equal(h.conflictMsg(await h.act(id, body, 'demo', v)), `Instance ${id} is locked`, JSON.stringify(body));
      }
      assert.equal((await h.act(id, { 'os-stop': null }, 'admin')).status, 202);
      await cloud.settle();
      assert.equal((await h.act(id, { 'os-start': null }, 'admin')).status, 202);
      await cloud.settle();
      assert.equal((await h.act(id, { reboot: { type: 'SOFT' } }, 'admin')).status, 202);
      await cloud.settle();
      assert.equal((await h.show(id)).status, 'ACTIVE');
      await h.act(id, { unlock: null });
    });

    it('hides another project\'s server (404), lets admins act on any', async () => {
      const id = await boot(cloud);
      for (const [body, v] of [[{ 'os-stop': null }], [{ reboot: { type: 'HARD' } }], [{ suspend: null }], [{ resume: null }], [{ 'os-start': null }], [{ trigger_crash_dump: null }, '2.17']] as [unknown, string?][]) {
        const res = await h.act(id, body, 'alt_demo', v);
        assert.equal(res.status, 404, JSON.stringify(body));
        assert.deepEqual(res.body, { itemNotFound: { code: 404, message: `Instance ${id} could not be found.` } });
      }
      assert.equal((await h.act(id, { suspend: null }, 'admin')).status, 202);
      await cloud.settle();
      assert.equal((await h.act(id, { resume: null }, 'admin')).status, 202);
      await cloud.settle();
      assert.equal((await h.show(id)).status, 'ACTIVE');
    });

    it('asks the policy named after Nova\'s rule (a reader of the project gets 403)', async () => {
      const id = await boot(cloud);
      const token = await readerToken(cloud);
      const cases: [unknown, string, string?][] = [
        [{ 'os-stop': null }, 'os_compute_api:servers:stop'],
        [{ 'os-start': null }, 'os_compute_api:servers:start'],
        [{ reboot: { type: 'SOFT' } }, 'os_compute_api:servers:reboot'],
        [{ suspend: null }, 'os_compute_api:os-suspend-server:suspend'],
        [{ resume: null }, 'os_compute_api:os-suspend-server:resume'],
        [{ trigger_crash_dump: null }, 'os_compute_api:servers:trigger_crash_dump', '2.17'],
      ];
      for (const [body, rule, v] of cases) {
        const res = await cloud.request({ method: 'POST', url: `/compute/v2.1/servers/${id}/action`, as: { token }, body, ...(v ? { version: v } : {}) });
        assertPolicy(res, rule);
      }
      assert.equal((await h.row(id)).task_state, null);
    });
  });
});
