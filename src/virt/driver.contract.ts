import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PowerState } from '../compute/states.js';
import type { GuestSpec, VirtDriver } from './driver.js';

export function guestSpec(uuid: string): GuestSpec {
  return {
    uuid,
    name: 'instance-00000001',
    vcpus: 1,
    memoryMb: 512,
    rootGb: 1,
    ephemeralGb: 0,
    swapMb: 0,
    imageRef: '00000000-0000-0000-0000-000000000000',
    userData: null,
    keyData: null,
    adminPass: 'secret',
    nics: [{ portId: 'p1', mac: 'fa:16:3e:00:00:01', ips: ['10.0.0.3'] }],
  };
}

/** The behaviour every virt driver must show. `make` returns a fresh driver. */
export function driverContract(name: string, make: () => Promise<VirtDriver>): void {
  describe(`virt driver contract: ${name}`, () => {
    it('reports its resources', async () => {
      const d = await make();
      await d.init();
      const r = d.resources();
      assert.ok(r.vcpus > 0 && r.memoryMb > 0 && r.diskGb > 0);
      assert.ok(r.hypervisorType.length > 0);
    });

    it('spawns a guest that then runs, with progress up to 100', async () => {
      const d = await make();
      await d.init();
      const seen: number[] = [];
      await d.spawn(guestSpec('g1'), (p) => {
        seen.push(p);
        return Promise.resolve();
      });
      assert.equal(seen.at(-1), 100);
      assert.deepEqual([...seen].sort((a, b) => a - b), seen);
      assert.equal(await d.powerState('g1'), PowerState.RUNNING);
      assert.deepEqual(await d.listGuests(), ['g1']);
      assert.equal(typeof (await d.consoleOutput('g1')), 'string');
    });

    it('pauses and unpauses a guest', async () => {
      const d = await make();
      await d.init();
      await d.spawn(guestSpec('g3'), () => Promise.resolve());
      await d.pause('g3');
      assert.equal(await d.powerState('g3'), PowerState.PAUSED);
      await assert.rejects(d.pause('g3'));
      await d.unpause('g3');
      assert.equal(await d.powerState('g3'), PowerState.RUNNING);
      await assert.rejects(d.pause('missing'));
    });

    it('destroys a guest, and destroying a missing guest is not an error', async () => {
      const d = await make();
      await d.init();
      await d.spawn(guestSpec('g2'), () => Promise.resolve());
      await d.destroy('g2');
      assert.equal(await d.powerState('g2'), PowerState.NOSTATE);
      assert.deepEqual(await d.listGuests(), []);
      await d.destroy('never-existed');
    });
  });
}
