import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../lib/clock.js';
import { driverContract, guestSpec } from '../driver.contract.js';
import { FakeDriver, FakeStorage } from './driver.js';
import { DriverError } from '../driver.js';

const resources = { vcpus: 8, memoryMb: 16384, diskGb: 100, hypervisorType: 'fake', hypervisorVersion: 1000, cpuInfo: {} };
const make = () => new FakeDriver({ clock: new FakeClock(), stepMs: 0, resources });

driverContract(
  'fake',
  () => Promise.resolve(make()),
  (shared) => {
    const clock = new FakeClock();
    const storage = shared ? new FakeStorage() : undefined;
    const one = () => new FakeDriver({ clock, stepMs: 0, resources, ...(storage ? { storage } : {}) });
    return Promise.resolve([one(), one()]);
  },
);

describe('fake driver fault injection', () => {
  it('fails the next spawn for a guest, then succeeds', async () => {
    const d = make();
    d.failNext('spawn', { uuid: 'g1', message: 'boom' });
    await assert.rejects(d.spawn(guestSpec('g1'), () => Promise.resolve()), (e: unknown) => e instanceof DriverError && e.message === 'boom');
    await d.spawn(guestSpec('g1'), () => Promise.resolve());
    assert.deepEqual(await d.listGuests(), ['g1']);
  });

  it('takes stepMs per step on its clock', async () => {
    const clock = new FakeClock();
    const d = new FakeDriver({ clock, stepMs: 100, resources });
    let done = false;
    const p = d.spawn(guestSpec('g1'), () => Promise.resolve()).then(() => {
      done = true;
    });
    await clock.advance(250);
    assert.equal(done, false);
    await clock.advance(200);
    await p;
    assert.equal(done, true);
  });
});
