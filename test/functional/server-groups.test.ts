import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestCloud, type TestCloud } from '../helpers/cloud.js';
import { boot, cirrosId } from '../helpers/servers.js';
import { quotaUsage } from '../../src/compute/resources/quota.js';
import { assertLedger } from '../helpers/ledger.js';

const V = '/compute/v2.1';
type As = 'admin' | 'demo' | 'alt_demo';

describe('os-server-groups', () => {
  let cloud: TestCloud;
  let demoProject: string;
  let demoUser: string;
  let image: string;

  // Three hosts, each with room for three m1.tiny (512 MB) servers.
  before(async () => {
    cloud = await startTestCloud({
      compute: {
        hosts: [
          { name: 'h1', memory_mb: 1536 },
          { name: 'h2', memory_mb: 1536 },
          { name: 'h3', memory_mb: 1536 },
        ],
      },
    });
    const account = cloud.identity.accounts.find((a) => a.username === 'demo');
    demoProject = account?.projectId ?? 'demo';
    demoUser = account?.userId ?? 'demo';
    image = await cirrosId(cloud);
  });
  after(async () => {
    await cloud.close();
  });

  const createGroup = (server_group: Record<string, unknown>, version = '2.1', as: As = 'demo') =>
    cloud.request({ method: 'POST', url: `${V}/os-server-groups`, body: { server_group }, version, as });
  const groupId = async (server_group: Record<string, unknown>, version = '2.1', as: As = 'demo'): Promise<string> => {
    const res = await createGroup(server_group, version, as);
    assert.equal(res.status, 200, res.text);
    return res.body.server_group.id as string;
  };
  const showGroup = (id: string, version = '2.1', as: As = 'demo') => cloud.request({ url: `${V}/os-server-groups/${id}`, version, as });
  const deleteGroup = (id: string, as: As = 'demo') => cloud.request({ method: 'DELETE', url: `${V}/os-server-groups/${id}`, as });
  const create = (extra: Record<string, unknown>, hints?: Record<string, unknown>, as: As = 'demo') =>
    cloud.request({
      method: 'POST',
      url: `${V}/servers`,
      as,
      body: { server: { name: 'vm', flavorRef: '1', imageRef: image, ...extra }, ...(hints ? { 'os:scheduler_hints': hints } : {}) },
    });
  const bootIn = async (group: string, n = 1): Promise<void> => {
    const res = await create({ min_count: n, max_count: n }, { group });
    assert.equal(res.status, 202, res.text);
    await cloud.settle();
  };
  /** The group's servers as the admin sees them: id -> [status, host]. */
  const placements = async (group: string): Promise<{ id: string; status: string; host: string | null }[]> => {
    const g = await showGroup(group, '2.1', 'admin');
    const out: { id: string; status: string; host: string | null }[] = [];
    for (const id of g.body.server_group.members as string[]) {
      const s = (await cloud.request({ url: `${V}/servers/${id}`, as: 'admin' })).body.server;
      out.push({ id, status: s.status, host: s['OS-EXT-SRV-ATTR:host'] });
    }
    return out;
  };
  const hostOf = async (id: string): Promise<string | null> =>
    (await cloud.request({ url: `${V}/servers/${id}`, as: 'admin' })).body.server['OS-EXT-SRV-ATTR:host'] as string | null;

  /** Removes every server and group so each test starts with empty hosts and fresh quota. */
  afterEach(async () => {
    await cloud.settle();
    await assertLedger(cloud);
    const servers = await cloud.request({ url: `${V}/servers?all_tenants=1`, as: 'admin' });
    for (const s of servers.body.servers as { id: string }[]) {
      await cloud.request({ method: 'DELETE', url: `${V}/servers/${s.id}`, as: 'admin' });
    }
    await cloud.settle();
    const groups = await cloud.request({ url: `${V}/os-server-groups?all_projects=1`, as: 'admin' });
    for (const g of groups.body.server_groups as { id: string }[]) await deleteGroup(g.id, 'admin');
  });

  describe('API', () => {
    it('2.1: create (200), show, list: policies and metadata, no project/user', async () => {
      const res = await createGroup({ name: 'web', policies: ['anti-affinity'] });
      assert.equal(res.status, 200, res.text);
      const g = res.body.server_group;
      assert.deepEqual(Object.keys(g).sort(), ['id', 'members', 'metadata', 'name', 'policies']);
      assert.deepEqual(g.policies, ['anti-affinity']);
      assert.deepEqual(g.metadata, {});
      assert.deepEqual(g.members, []);
      assert.deepEqual((await showGroup(g.id)).body.server_group, g);
      const list = await cloud.request({ url: `${V}/os-server-groups` });
      assert.deepEqual(list.body.server_groups, [g]);
    });
    it('2.13 adds project_id and user_id; 2.15 allows the soft policies', async () => {
      const res = await createGroup({ name: 'a', policies: ['affinity'] }, '2.13');
      assert.equal(res.body.server_group.project_id, demoProject);
      assert.equal(res.body.server_group.user_id, demoUser);
      assert.equal((await createGroup({ name: 'b', policies: ['soft-affinity'] }, '2.14')).status, 400);
      const soft = await createGroup({ name: 'b', policies: ['soft-anti-affinity'] }, '2.15');
      assert.equal(soft.status, 200, soft.text);
      assert.deepEqual(soft.body.server_group.policies, ['soft-anti-affinity']);
    });
    it('2.64: policy and rules instead of policies and metadata', async () => {
      const res = await createGroup({ name: 'c', policy: 'anti-affinity', rules: { max_server_per_host: 2 } }, '2.64');
      assert.equal(res.status, 200, res.text);
      const g = res.body.server_group;
      assert.deepEqual(Object.keys(g).sort(), ['id', 'members', 'name', 'policy', 'project_id', 'rules', 'user_id']);
      assert.equal(g.policy, 'anti-affinity');
      assert.deepEqual(g.rules, { max_server_per_host: 2 });
      const plain = await createGroup({ name: 'd', policy: 'affinity' }, '2.64');
      assert.deepEqual(plain.body.server_group.rules, {});
      // The same group shown below 2.64.
      assert.deepEqual((await showGroup(g.id, '2.63')).body.server_group.policies, ['anti-affinity']);
    });
    it('bad bodies are 400', async () => {
      const bad = async (body: Record<string, unknown>, version: string, message?: string) => {
        const res = await createGroup(body, version);
        assert.equal(res.status, 400, res.text);
        if (message) assert.equal(res.body.badRequest.message, message);
      };
      await bad({ name: 'x' }, '2.1');
      await bad({ name: 'x', policies: [] }, '2.1');
      await bad({ name: 'x', policies: ['affinity', 'anti-affinity'] }, '2.1');
      await bad({ name: 'x', policies: ['bogus'] }, '2.1');
      await bad({ name: 'x', policy: 'affinity' }, '2.1');
      await bad({ name: 'x', policies: ['affinity'] }, '2.64');
      await bad({ name: 'x', policy: 'affinity', rules: { max_server_per_host: 2 } }, '2.64', 'Only anti-affinity policy supports rules.');
      await bad({ name: 'x', policy: 'anti-affinity', rules: { max_server_per_host: 0 } }, '2.64');
      await bad({ name: 'x', policy: 'anti-affinity', rules: { other: 1 } }, '2.64');
      await bad({ name: ' x', policies: ['affinity'] }, '2.1');
      await bad({ name: '', policies: ['affinity'] }, '2.1');
      const res = await cloud.request({ method: 'POST', url: `${V}/os-server-groups`, body: { nope: {} } });
      assert.equal(res.status, 400);
    });
    it('show and delete: 404 for an unknown group, 403 for another project, admin allowed', async () => {
      const missing = '6f1c2b1e-1111-4222-8333-944455556666';
      const nf = await showGroup(missing);
      assert.equal(nf.status, 404);
      assert.equal(nf.body.itemNotFound.message, `Instance group ${missing} could not be found.`);
      assert.equal((await deleteGroup(missing)).status, 404);
      const id = await groupId({ name: 'mine', policies: ['affinity'] });
      const other = await showGroup(id, '2.1', 'alt_demo');
      assert.equal(other.status, 403);
      assert.equal(other.body.forbidden.message, "Policy doesn't allow os_compute_api:os-server-groups:show to be performed.");
      const otherDel = await deleteGroup(id, 'alt_demo');
      assert.equal(otherDel.body.forbidden.message, "Policy doesn't allow os_compute_api:os-server-groups:delete to be performed.");
      assert.equal((await showGroup(id, '2.1', 'admin')).status, 200);
      assert.equal((await deleteGroup(id)).status, 204);
      assert.equal((await showGroup(id)).status, 404);
    });
    it('list: own project only; all_projects for admins; limit and offset', async () => {
      const a = await groupId({ name: 'a', policies: ['affinity'] });
      const b = await groupId({ name: 'b', policies: ['affinity'] });
      const c = await groupId({ name: 'c', policies: ['affinity'] }, '2.1', 'alt_demo');
      const ids = async (url: string, as: As) => ((await cloud.request({ url, as })).body.server_groups as { id: string }[]).map((g) => g.id);
      assert.deepEqual(await ids(`${V}/os-server-groups`, 'demo'), [a, b]);
      assert.deepEqual(await ids(`${V}/os-server-groups?all_projects=1`, 'demo'), [a, b]);
      assert.deepEqual(await ids(`${V}/os-server-groups`, 'alt_demo'), [c]);
      assert.deepEqual(await ids(`${V}/os-server-groups?all_projects=True`, 'admin'), [a, b, c]);
      assert.deepEqual(await ids(`${V}/os-server-groups?limit=1&offset=1`, 'demo'), [b]);
      assert.deepEqual(await ids(`${V}/os-server-groups?limit=1`, 'demo'), [a]);
      assert.equal((await cloud.request({ url: `${V}/os-server-groups?limit=-1` })).status, 400);
      assert.equal((await cloud.request({ url: `${V}/os-server-groups?foo=1`, version: '2.75' })).status, 400);
      assert.equal((await cloud.request({ url: `${V}/os-server-groups?foo=1`, version: '2.74' })).status, 200);
    });
  });

  describe('quotas', () => {
    const setQuota = (quota_set: Record<string, number>) =>
      cloud.request({ method: 'PUT', url: `${V}/os-quota-sets/${demoProject}`, body: { quota_set }, as: 'admin' });
    afterEach(async () => {
      await cloud.request({ method: 'DELETE', url: `${V}/os-quota-sets/${demoProject}`, as: 'admin' });
    });
    it('server_groups: counted in usage, 403 over the limit', async () => {
      assert.equal((await setQuota({ server_groups: 1 })).status, 200);
      await groupId({ name: 'one', policies: ['affinity'] });
      assert.equal((await quotaUsage(cloud.db, demoProject)).server_groups, 1);
      assert.equal((await quotaUsage(cloud.db, demoProject, demoUser)).server_groups, 1);
      const res = await createGroup({ name: 'two', policies: ['affinity'] });
      assert.equal(res.status, 403);
      assert.equal(res.body.forbidden.message, 'Quota exceeded, too many server groups.');
      // Another project is not affected.
      assert.equal((await createGroup({ name: 'x', policies: ['affinity'] }, '2.1', 'alt_demo')).status, 200);
    });
    it('server_group_members: 403 when the group is full; deleted members do not count', async () => {
      assert.equal((await setQuota({ server_group_members: 2 })).status, 200);
      const g = await groupId({ name: 'g', policies: ['soft-affinity'] }, '2.15');
      const many = await create({ min_count: 3, max_count: 3 }, { group: g });
      assert.equal(many.status, 403);
      assert.equal(many.body.forbidden.message, 'Quota exceeded, too many servers in group');
      await bootIn(g, 2);
      const third = await create({}, { group: g });
      assert.equal(third.status, 403, third.text);
      const [first] = (await showGroup(g)).body.server_group.members as string[];
      assert.ok(first);
      assert.equal((await cloud.request({ method: 'DELETE', url: `${V}/servers/${first}` })).status, 204);
      await cloud.settle();
      assert.equal((await showGroup(g)).body.server_group.members.length, 1);
      assert.equal((await create({}, { group: g })).status, 202);
      await cloud.settle();
    });
  });

  describe('server create with a group hint', () => {
    it('an unknown or invisible group is 400; bad hint formats are 400', async () => {
      const missing = '6f1c2b1e-1111-4222-8333-944455556666';
      const res = await create({}, { group: missing });
      assert.equal(res.status, 400);
      assert.equal(res.body.badRequest.message, `Instance group ${missing} could not be found.`);
      const theirs = await groupId({ name: 'theirs', policies: ['affinity'] }, '2.1', 'alt_demo');
      const other = await create({}, { group: theirs });
      assert.equal(other.status, 400);
      assert.equal(other.body.badRequest.message, `Instance group ${theirs} could not be found.`);
      assert.equal((await create({}, { group: 'not-a-uuid' })).status, 400);
      assert.equal((await create({}, { different_host: 'not-a-uuid' })).status, 400);
      assert.equal((await create({}, { same_host: 5 })).status, 400);
    });
    it('2.71 shows the server groups of a server (show only); group deletion updates it', async () => {
      const g = await groupId({ name: 'g', policies: ['affinity'] });
      await bootIn(g);
      const [id] = (await showGroup(g)).body.server_group.members as string[];
      assert.ok(id);
      const show = async (version: string) => (await cloud.request({ url: `${V}/servers/${id}`, version })).body.server;
      assert.deepEqual((await show('2.71')).server_groups, [g]);
      assert.equal('server_groups' in (await show('2.70')), false);
      const detail = await cloud.request({ url: `${V}/servers/detail`, version: '2.71' });
      assert.equal('server_groups' in detail.body.servers[0], false);
      const put = await cloud.request({ method: 'PUT', url: `${V}/servers/${id}`, version: '2.71', body: { server: { name: 'renamed' } } });
      assert.deepEqual(put.body.server.server_groups, [g]);
      assert.equal((await deleteGroup(g)).status, 204);
      assert.deepEqual((await show('2.71')).server_groups, []);
    });
  });

  describe('placement', () => {
    it('affinity: every member on one host; when it is full the next member fails with No valid host', async () => {
      const g = await groupId({ name: 'aff', policies: ['affinity'] });
      await bootIn(g, 3);
      const placed = await placements(g);
      assert.deepEqual(placed.map((p) => p.status), ['ACTIVE', 'ACTIVE', 'ACTIVE']);
      assert.equal(new Set(placed.map((p) => p.host)).size, 1);
      await bootIn(g);
      const fourth = (await placements(g))[3];
      assert.equal(fourth?.status, 'ERROR');
      const s = (await cloud.request({ url: `${V}/servers/${fourth?.id ?? ''}` })).body.server;
      assert.equal(s.fault.message, 'No valid host was found. There are not enough hosts available.');
    });
    it('affinity holds at unshelve: an offloaded member comes back to its group\'s host', async () => {
      const g = await groupId({ name: 'aff-shelve', policies: ['affinity'] });
      await bootIn(g, 2);
      const [a, b] = await placements(g);
      assert.ok(a && b && a.host !== null && a.host === b.host);
      const act = (body: unknown) => cloud.request({ method: 'POST', url: `${V}/servers/${b.id}/action`, body });
      assert.equal((await act({ shelve: null })).status, 202);
      await cloud.settle();
      assert.equal(await hostOf(b.id), null, 'offloaded');
      assert.equal((await act({ unshelve: null })).status, 202);
      await cloud.settle();
      // Spreading alone would pick one of the two empty hosts.
      assert.equal(await hostOf(b.id), a.host);
    });

    it('anti-affinity: one member per host; more members than hosts: the extra ones ERROR', async () => {
      const g = await groupId({ name: 'anti', policies: ['anti-affinity'] });
      await bootIn(g, 4);
      const placed = await placements(g);
      assert.deepEqual(placed.map((p) => p.status), ['ACTIVE', 'ACTIVE', 'ACTIVE', 'ERROR']);
      assert.deepEqual(placed.slice(0, 3).map((p) => p.host).sort(), ['h1', 'h2', 'h3']);
    });
    it('anti-affinity with max_server_per_host (2.64)', async () => {
      const g = await groupId({ name: 'anti2', policy: 'anti-affinity', rules: { max_server_per_host: 2 } }, '2.64');
      await bootIn(g, 7);
      const placed = await placements(g);
      assert.deepEqual(placed.map((p) => p.status), ['ACTIVE', 'ACTIVE', 'ACTIVE', 'ACTIVE', 'ACTIVE', 'ACTIVE', 'ERROR']);
      const perHost = new Map<string, number>();
      for (const p of placed.slice(0, 6)) perHost.set(p.host ?? '', (perHost.get(p.host ?? '') ?? 0) + 1);
      assert.deepEqual([...perHost.values()], [2, 2, 2]);
    });
    it('soft-anti-affinity spreads and never fails', async () => {
      const g = await groupId({ name: 'soft-anti', policies: ['soft-anti-affinity'] }, '2.15');
      await bootIn(g, 5);
      const placed = await placements(g);
      assert.ok(placed.every((p) => p.status === 'ACTIVE'));
      assert.deepEqual(new Set(placed.slice(0, 3).map((p) => p.host)).size, 3);
    });
    it('soft-affinity never fails, even when its members\' host is full', async () => {
      const g = await groupId({ name: 'soft-aff', policies: ['soft-affinity'] }, '2.15');
      await bootIn(g, 5);
      const placed = await placements(g);
      assert.ok(placed.every((p) => p.status === 'ACTIVE'), JSON.stringify(placed));
    });
    it('same_host and different_host hints', async () => {
      const first = await boot(cloud, { name: 'first' });
      const firstHost = await hostOf(first);
      const same = await create({ name: 'same' }, { same_host: [first] });
      assert.equal(same.status, 202);
      const diff = await create({ name: 'diff' }, { different_host: first });
      assert.equal(diff.status, 202);
      await cloud.settle();
      assert.equal(await hostOf(same.body.server.id as string), firstHost);
      const diffHost = await hostOf(diff.body.server.id as string);
      assert.notEqual(diffHost, null);
      assert.notEqual(diffHost, firstHost);
      // same_host of servers on two hosts: one of those two hosts.
      const both = await create({ name: 'both' }, { same_host: [first, diff.body.server.id] });
      await cloud.settle();
      assert.ok([firstHost, diffHost].includes(await hostOf(both.body.server.id as string)));
      // different_host of servers covering every host: No valid host.
      const third = await boot(cloud, { name: 'third', extra: {} });
      const hosts = new Set([firstHost, diffHost, await hostOf(third)]);
      if (hosts.size === 3) {
        const none = await create({ name: 'none' }, { different_host: [first, diff.body.server.id, third] });
        await cloud.settle();
        const s = (await cloud.request({ url: `${V}/servers/${none.body.server.id as string}` })).body.server;
        assert.equal(s.status, 'ERROR');
      }
    });
  });
});
