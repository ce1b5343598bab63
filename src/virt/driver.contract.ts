import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PowerState } from '../compute/states.js';
import { LiveMigrationAborted, type GuestSpec, type VirtDriver } from './driver.js';

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

/**
 * The behaviour every virt driver must show. `make` returns a fresh driver;
 * `makePair` two fresh drivers on hosts that share instance storage or not
 * (for live migration).
 */
export function driverContract(name: string, make: () => Promise<VirtDriver>, makePair: (sharedStorage: boolean) => Promise<[VirtDriver, VirtDriver]>): void {
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

    it('powers off and on, reboots soft and hard', async () => {
      const d = await make();
      await d.init();
      await d.spawn(guestSpec('g4'), () => Promise.resolve());
      await d.reboot('g4', 'SOFT');
      assert.equal(await d.powerState('g4'), PowerState.RUNNING);
      await d.powerOff('g4', 0);
      assert.equal(await d.powerState('g4'), PowerState.SHUTDOWN);
      await assert.rejects(d.reboot('g4', 'SOFT'), 'a soft reboot needs a running guest');
      await d.reboot('g4', 'HARD');
      assert.equal(await d.powerState('g4'), PowerState.RUNNING);
      await d.powerOff('g4');
      await d.powerOn('g4');
      assert.equal(await d.powerState('g4'), PowerState.RUNNING);
    });

    it('suspends and resumes, rescues and unrescues', async () => {
      const d = await make();
      await d.init();
      await d.spawn(guestSpec('g5'), () => Promise.resolve());
      await d.suspend('g5');
      assert.equal(await d.powerState('g5'), PowerState.SUSPENDED);
      await d.resume('g5');
      assert.equal(await d.powerState('g5'), PowerState.RUNNING);
      await assert.rejects(d.unrescue('g5'));
      await d.rescue('g5', 'img', 'pw');
      assert.equal(await d.powerState('g5'), PowerState.RUNNING);
      await d.unrescue('g5');
    });

    it('snapshots, sets passwords, dumps, injects network info, opens consoles', async () => {
      const d = await make();
      await d.init();
      const spec = guestSpec('g6');
      await d.spawn(spec, () => Promise.resolve());
      const bytes = await d.snapshot('g6');
      assert.ok(bytes.length > 0);
      await d.setAdminPassword('g6', 'pw');
      await d.triggerCrashDump('g6');
      await d.injectNetworkInfo('g6', spec.nics);
      const ep = await d.consoleEndpoint('g6', 'novnc');
      assert.ok(ep.port > 0);
      await assert.rejects(d.snapshot('missing'));
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

    it('resize support: the source keeps the guest shut off until confirm or revert', async () => {
      const d = await make();
      await d.init();
      const spec = guestSpec('rz1');
      await d.spawn(spec, () => Promise.resolve());
      await d.migrateDiskAndPowerOff('rz1');
      assert.equal(await d.powerState('rz1'), PowerState.SHUTDOWN);
      assert.deepEqual(await d.listGuests(), ['rz1']);
      await d.finishRevertMigration(spec, true);
      assert.equal(await d.powerState('rz1'), PowerState.RUNNING);
      await d.destroy('rz1');
      await d.finishRevertMigration(spec, false);
      assert.equal(await d.powerState('rz1'), PowerState.SHUTDOWN, 're-created from the kept disks when the guest was gone');
      await assert.rejects(d.migrateDiskAndPowerOff('missing'));
    });

    it('live-migrates a running guest: pre-checks, an incoming guest, progress to zero remaining, the guest only on the destination', async () => {
      const [src, dst] = await makePair(false);
      await src.init();
      await dst.init();
      const spec = guestSpec('lm1');
      await src.spawn(spec, () => Promise.resolve());
      const check = await dst.checkLiveMigrationDestination('lm1', src.resources().cpuInfo);
      assert.ok(check.cpuCompare > 0, 'a host accepts its own kind of CPU');
      assert.equal(await src.hasStorageMarker(check.storageMarker), false, 'no shared storage');
      await dst.removeStorageMarker(check.storageMarker);
      await dst.preLiveMigration(spec);
      const seen: { memoryRemaining: number; diskTotal: number }[] = [];
      await src.liveMigrate('lm1', 'dest', { block: true, onProgress: (p) => Promise.resolve(void seen.push(p)) });
      assert.ok(seen.length > 0);
      assert.equal(seen.at(-1)?.memoryRemaining, 0);
      assert.ok((seen.at(-1)?.diskTotal ?? 0) > 0, 'a block migration copies the disks');
      await dst.postLiveMigrationAtDestination('lm1', PowerState.RUNNING);
      assert.deepEqual(await src.listGuests(), []);
      assert.deepEqual(await dst.listGuests(), ['lm1']);
      assert.equal(await dst.powerState('lm1'), PowerState.RUNNING);
    });

    it('sees shared storage through the marker, and aborts or force-completes a running migration', async () => {
      const [src, dst] = await makePair(true);
      await src.init();
      await dst.init();
      const check = await dst.checkLiveMigrationDestination('lm2', src.resources().cpuInfo);
      assert.equal(await src.hasStorageMarker(check.storageMarker), true);
      await dst.removeStorageMarker(check.storageMarker);
      assert.equal(await src.hasStorageMarker(check.storageMarker), false);
      await src.spawn(guestSpec('lm2'), () => Promise.resolve());
      await assert.rejects(src.liveMigrationAbort('lm2'), 'nothing to abort');
      await src.liveMigrate('lm2', 'dest', {
        block: false,
        onProgress: async (p) => {
          assert.equal(p.diskTotal, 0);
          await src.liveMigrationAbort('lm2');
        },
      }).then(
        () => assert.fail('an aborted migration must not complete'),
        (err: unknown) => assert.ok(err instanceof LiveMigrationAborted),
      );
      assert.deepEqual(await src.listGuests(), ['lm2'], 'the guest keeps running on the source');
      let rounds = 0;
      await src.liveMigrate('lm2', 'dest', {
        block: false,
        onProgress: async () => {
          rounds++;
          await src.liveMigrationForceComplete('lm2').catch(() => undefined);
        },
      });
      assert.ok(rounds <= 2, 'force-complete converges at once');
      assert.deepEqual(await src.listGuests(), []);
    });
  });
}
