import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { GroupSpec, HostState } from '../types.js';
import { hostState, requestSpec } from '../../../test/helpers/scheduler.js';
import { differentHostFilter } from './different-host.js';
import { sameHostFilter } from './same-host.js';
import { serverGroupAffinityFilter } from './server-group-affinity.js';
import { serverGroupAntiAffinityFilter } from './server-group-anti-affinity.js';
import { serverGroupSoftAffinityWeigher } from '../weighers/server-group-soft-affinity.js';
import { serverGroupSoftAntiAffinityWeigher } from '../weighers/server-group-soft-anti-affinity.js';

const host = (name: string, uuids: string[] = []): HostState =>
  hostState(name, { instances: uuids.length, instanceUuids: new Set(uuids) });
const spec = requestSpec;
const group = (policy: GroupSpec['policy'], maxServerPerHost = 1): GroupSpec => ({ uuid: 'g', policy, maxServerPerHost, members: [] });

describe('server group filters', () => {
  it('affinity: any host until a member is placed, then only the members\' hosts', () => {
    assert.equal(serverGroupAffinityFilter.passes(host('a'), spec({ group: group('affinity'), groupHosts: [] })), true);
    assert.equal(serverGroupAffinityFilter.passes(host('a'), spec({ group: group('affinity'), groupHosts: ['b'] })), false);
    assert.equal(serverGroupAffinityFilter.passes(host('b'), spec({ group: group('affinity'), groupHosts: ['b'] })), true);
    assert.equal(serverGroupAffinityFilter.passes(host('a'), spec({ group: group('anti-affinity'), groupHosts: ['b'] })), true);
    assert.equal(serverGroupAffinityFilter.passes(host('a'), spec()), true);
  });
  it('anti-affinity: fewer than max_server_per_host members on the host', () => {
    assert.equal(serverGroupAntiAffinityFilter.passes(host('a'), spec({ group: group('anti-affinity'), groupHosts: ['a'] })), false);
    assert.equal(serverGroupAntiAffinityFilter.passes(host('b'), spec({ group: group('anti-affinity'), groupHosts: ['a'] })), true);
    assert.equal(serverGroupAntiAffinityFilter.passes(host('a'), spec({ group: group('anti-affinity', 2), groupHosts: ['a'] })), true);
    assert.equal(serverGroupAntiAffinityFilter.passes(host('a'), spec({ group: group('anti-affinity', 2), groupHosts: ['a', 'a'] })), false);
    assert.equal(serverGroupAntiAffinityFilter.passes(host('a'), spec({ group: group('soft-anti-affinity'), groupHosts: ['a'] })), true);
  });
  it('same_host: the host holds one of the named servers', () => {
    assert.equal(sameHostFilter.passes(host('a', ['x']), spec({ sameHost: ['x', 'y'] })), true);
    assert.equal(sameHostFilter.passes(host('a', ['z']), spec({ sameHost: ['x'] })), false);
    assert.equal(sameHostFilter.passes(host('a'), spec({ sameHost: [] })), true);
  });
  it('different_host: the host holds none of the named servers', () => {
    assert.equal(differentHostFilter.passes(host('a', ['x']), spec({ differentHost: ['x'] })), false);
    assert.equal(differentHostFilter.passes(host('a', ['z']), spec({ differentHost: ['x'] })), true);
    assert.equal(differentHostFilter.passes(host('a', ['x']), spec()), true);
  });
});

describe('server group weighers', () => {
  it('soft-affinity prefers hosts with more members; soft-anti-affinity fewer', () => {
    const s = (policy: GroupSpec['policy']) => spec({ group: group(policy), groupHosts: ['a', 'a', 'b'] });
    const aff = serverGroupSoftAffinityWeigher(1);
    const anti = serverGroupSoftAntiAffinityWeigher(1);
    assert.ok(aff.weigh(host('a'), s('soft-affinity')) > aff.weigh(host('b'), s('soft-affinity')));
    assert.ok(anti.weigh(host('c'), s('soft-anti-affinity')) > anti.weigh(host('a'), s('soft-anti-affinity')));
    assert.equal(aff.weigh(host('a'), s('soft-anti-affinity')), 0);
    assert.equal(anti.weigh(host('a'), s('affinity')), 0);
  });
});
