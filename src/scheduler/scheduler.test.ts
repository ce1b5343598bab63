import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { selectHosts } from './scheduler.js';
import { hostState, requestSpec } from '../../test/helpers/scheduler.js';

const host = hostState;
const spec = requestSpec;

describe('scheduler', () => {
  it('spreads to the host with the most free resources', () => {
    const picked = selectHosts([host('a', { usedMemoryMb: 2048, usedVcpus: 2 }), host('b')], spec());
    assert.deepEqual(picked.map((h) => h.host), ['b', 'a']);
  });
  it('drops disabled hosts, full hosts, other zones and ignored hosts', () => {
    const hosts = [
      host('off', { enabled: false }),
      host('full', { usedMemoryMb: 4000 }),
      host('az2', { availabilityZone: 'az2' }),
      host('bad'),
      host('ok'),
    ];
    assert.deepEqual(selectHosts(hosts, spec({ availabilityZone: 'nova', ignoreHosts: ['bad'] })).map((h) => h.host), ['ok']);
  });
  it('honours allocation ratios', () => {
    const h = host('a', { vcpus: 1, cpuAllocationRatio: 4, usedVcpus: 3 });
    assert.equal(selectHosts([h], spec()).length, 1);
    assert.equal(selectHosts([{ ...h, usedVcpus: 4 }], spec()).length, 0);
  });
  it('keeps to a requested host', () => {
    assert.deepEqual(selectHosts([host('a'), host('b')], spec({ requestedHost: 'a' })).map((h) => h.host), ['a']);
  });
});
