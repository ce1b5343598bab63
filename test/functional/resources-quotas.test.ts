import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { Insertable } from 'kysely';
import { startTestCloud, type TestCloud } from '../helpers/cloud.js';
import { initResources } from '../../src/compute/resources/seed.js';
import type { InstanceRow } from '../../src/compute/tables.js';

const V = '/compute/v2.1';

const ALL_KEYS = [
  'cores', 'fixed_ips', 'floating_ips', 'injected_file_content_bytes', 'injected_file_path_bytes', 'injected_files',
  'instances', 'key_pairs', 'metadata_items', 'ram', 'security_group_rules', 'security_groups', 'server_group_members', 'server_groups',
];
const KEYS_236 = ALL_KEYS.filter((k) => !['fixed_ips', 'floating_ips', 'security_group_rules', 'security_groups'].includes(k));
const KEYS_257 = KEYS_236.filter((k) => !k.startsWith('injected_file'));

/** A live server row, as server create would leave it (for usage counts). */
async function addInstance(cloud: TestCloud, project: string, user: string, vcpus: number, ram: number): Promise<void> {
  const now = '2026-01-01T00:00:00.000000';
  const row: Insertable<InstanceRow> = {
    uuid: randomUUID(), project_id: project, user_id: user, display_name: 's', display_description: null, hostname: 's',
    image_ref: '', flavor: JSON.stringify({ vcpus, memory_mb: ram }), flavor_id: '1', vcpus, memory_mb: ram, root_gb: 1,
    ephemeral_gb: 0, vm_state: 'active', task_state: null, power_state: 1, host: null, node: null, availability_zone: null,
    requested_az: null, launched_at: null, terminated_at: null, created_at: now, updated_at: now, deleted_at: null, deleted: 0,
    key_name: null, key_data: null, user_data: null, config_drive: '', access_ip_v4: null, access_ip_v6: null, disk_config: 'MANUAL',
    progress: 0, reservation_id: 'r-1', launch_index: 0, root_device_name: null, kernel_id: '', ramdisk_id: '', locked: 0,
    locked_by: null, locked_reason: null, security_groups: '[]', scheduler_hints: '{}', block_device_mapping: '[]',
    requested_networks: '"auto"',
  };
  await cloud.db.insertInto('instances').values(row).execute();
}

describe('limits and quota sets', () => {
  let cloud: TestCloud;
  let demoProject: string;
  let demoUser: string;
  let altProject: string;

  const badRequest = (res: { status: number; body: { badRequest?: { message: string } }; text: string }, message?: string) => {
    assert.equal(res.status, 400, res.text);
    if (message !== undefined) assert.equal(res.body.badRequest?.message, message);
  };
  const qs = (project: string, suffix = '') => `${V}/os-quota-sets/${project}${suffix}`;
  const put = (project: string, quota_set: Record<string, unknown>, version?: string, as: 'admin' | 'demo' = 'admin', query = '') =>
    cloud.request({ method: 'PUT', url: `${qs(project)}${query}`, body: { quota_set }, as, ...(version ? { version } : {}) });

  before(async () => {
    cloud = await startTestCloud();
    await initResources(cloud);
    const account = (n: string) => cloud.identity.accounts.find((a) => a.username === n);
    demoProject = account('demo')?.projectId ?? 'demo';
    demoUser = account('demo')?.userId ?? 'demo';
    altProject = account('alt_demo')?.projectId ?? 'alt_demo';
    await addInstance(cloud, demoProject, demoUser, 2, 1024);
    await addInstance(cloud, demoProject, 'someone-else', 1, 512);
  });
  after(async () => {
    await cloud.close();
  });

  describe('GET /limits', () => {
    it('2.1: every absolute limit and usage, no rate limits', async () => {
      const res = await cloud.request({ url: `${V}/limits` });
      assert.equal(res.status, 200);
      assert.deepEqual(res.body.limits.rate, []);
      assert.deepEqual(res.body.limits.absolute, {
        maxTotalCores: 20,
        maxTotalFloatingIps: -1,
        maxPersonalitySize: 10240,
        maxPersonality: 5,
        maxTotalInstances: 10,
        maxTotalKeypairs: 100,
        maxServerMeta: 128,
        maxImageMeta: 128,
        maxTotalRAMSize: 51200,
        maxSecurityGroupRules: -1,
        maxSecurityGroups: -1,
        maxServerGroupMembers: 10,
        maxServerGroups: 10,
        totalRAMUsed: 1536,
        totalCoresUsed: 3,
        totalInstancesUsed: 2,
        totalFloatingIpsUsed: 0,
        totalSecurityGroupsUsed: 0,
        totalServerGroupsUsed: 0,
      });
    });

    it('drops network limits at 2.36, maxImageMeta at 2.39, personality at 2.57', async () => {
      const keys = async (v: string) => Object.keys((await cloud.request({ url: `${V}/limits`, version: v })).body.limits.absolute).sort();
      const k235 = await keys('2.35');
      assert.equal(k235.length, 19);
      const k236 = await keys('2.36');
      for (const gone of ['maxTotalFloatingIps', 'maxSecurityGroups', 'maxSecurityGroupRules', 'totalFloatingIpsUsed', 'totalSecurityGroupsUsed']) {
        assert.ok(k235.includes(gone) && !k236.includes(gone), gone);
      }
      assert.ok(k236.includes('maxImageMeta'));
      assert.ok(!(await keys('2.39')).includes('maxImageMeta'));
      const k256 = await keys('2.56');
      const k257 = await keys('2.57');
      assert.ok(k256.includes('maxPersonality') && k256.includes('maxPersonalitySize'));
      assert.deepEqual(k257, [
        'maxServerGroupMembers', 'maxServerGroups', 'maxServerMeta', 'maxTotalCores', 'maxTotalInstances', 'maxTotalKeypairs',
        'maxTotalRAMSize', 'totalCoresUsed', 'totalInstancesUsed', 'totalRAMUsed', 'totalServerGroupsUsed',
      ]);
    });

    it('tenant_id is for admins', async () => {
      const denied = await cloud.request({ url: `${V}/limits?tenant_id=${altProject}` });
      assert.equal(denied.status, 403);
      assert.equal(denied.body.forbidden.message, "Policy doesn't allow os_compute_api:limits:other_project to be performed.");
      const res = await cloud.request({ url: `${V}/limits?tenant_id=${demoProject}`, as: 'admin' });
      assert.equal(res.status, 200);
      assert.equal(res.body.limits.absolute.totalInstancesUsed, 2);
      const own = await cloud.request({ url: `${V}/limits`, as: 'admin' });
      assert.equal(own.body.limits.absolute.totalInstancesUsed, 0);
    });

    it('strict query from 2.75', async () => {
      assert.equal((await cloud.request({ url: `${V}/limits?foo=1`, version: '2.74' })).status, 200);
      badRequest(await cloud.request({ url: `${V}/limits?foo=1`, version: '2.75' }), "Additional properties are not allowed ('foo' was unexpected)");
    });
  });

  describe('os-quota-sets', () => {
    it('shows the caller’s project with id, keys per microversion', async () => {
      const check = async (version: string, keys: string[]) => {
        const res = await cloud.request({ url: qs(demoProject), version });
        assert.equal(res.status, 200, res.text);
        assert.deepEqual(Object.keys(res.body.quota_set).sort(), ['id', ...keys].sort());
        assert.equal(res.body.quota_set.id, demoProject);
        return res.body.quota_set;
      };
      const q = await check('2.1', ALL_KEYS);
      assert.equal(q.instances, 10);
      assert.equal(q.floating_ips, -1);
      await check('2.35', ALL_KEYS);
      await check('2.36', KEYS_236);
      await check('2.56', KEYS_236);
      await check('2.57', KEYS_257);
    });

    it('readers of other projects are refused; admins may look', async () => {
      const res = await cloud.request({ url: qs(altProject) });
      assert.equal(res.status, 403);
      assert.equal(res.body.forbidden.message, "Policy doesn't allow os_compute_api:os-quota-sets:show to be performed.");
      assert.equal((await cloud.request({ url: qs(altProject, '/detail') })).status, 403);
      assert.equal((await cloud.request({ url: qs(altProject), as: 'admin' })).status, 200);
    });

    it('defaults are open to anyone', async () => {
      const res = await cloud.request({ url: qs(altProject, '/defaults'), version: '2.57' });
      assert.equal(res.status, 200);
      assert.deepEqual(res.body.quota_set, {
        id: altProject,
        cores: 20,
        instances: 10,
        key_pairs: 100,
        metadata_items: 128,
        ram: 51200,
        server_group_members: 10,
        server_groups: 10,
      });
      assert.equal((await cloud.request({ url: qs(altProject, '/defaults?foo=1'), version: '2.102' })).status, 200);
    });

    it('detail shows limit, in_use and reserved', async () => {
      const res = await cloud.request({ url: qs(demoProject, '/detail'), version: '2.57' });
      assert.equal(res.status, 200);
      const q = res.body.quota_set;
      assert.equal(q.id, demoProject);
      assert.deepEqual(q.instances, { in_use: 2, limit: 10, reserved: 0 });
      assert.deepEqual(q.cores, { in_use: 3, limit: 20, reserved: 0 });
      assert.deepEqual(q.ram, { in_use: 1536, limit: 51200, reserved: 0 });
      assert.deepEqual(q.key_pairs, { in_use: 0, limit: 100, reserved: 0 });
      const mine = await cloud.request({ url: qs(demoProject, `/detail?user_id=${demoUser}`), version: '2.57' });
      assert.deepEqual(mine.body.quota_set.instances, { in_use: 1, limit: 10, reserved: 0 });
    });

    it('admins update; the response has no id; show reflects it', async () => {
      const res = await put(demoProject, { instances: 20, cores: '30' });
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.quota_set.id, undefined);
      assert.equal(res.body.quota_set.instances, 20);
      assert.equal(res.body.quota_set.cores, 30);
      assert.deepEqual(Object.keys(res.body.quota_set).sort(), ALL_KEYS);
      const show = await cloud.request({ url: qs(demoProject) });
      assert.equal(show.body.quota_set.instances, 20);
      const limits = await cloud.request({ url: `${V}/limits` });
      assert.equal(limits.body.limits.absolute.maxTotalInstances, 20);
      assert.equal(limits.body.limits.absolute.maxTotalCores, 30);
      assert.equal((await put(demoProject, { instances: -1 })).body.quota_set.instances, -1);
    });

    it('non-admins cannot update or delete', async () => {
      const res = await put(demoProject, { instances: 50 }, undefined, 'demo');
      assert.equal(res.status, 403);
      assert.equal(res.body.forbidden.message, "Policy doesn't allow os_compute_api:os-quota-sets:update to be performed.");
      const del = await cloud.request({ method: 'DELETE', url: qs(demoProject) });
      assert.equal(del.status, 403);
    });

    it('a limit below usage needs force', async () => {
      badRequest(
        await put(demoProject, { instances: 1 }),
        'Quota limit 1 for instances must be greater than or equal to already used and reserved 2.',
      );
      const forced = await put(demoProject, { instances: 1, force: 'True' });
      assert.equal(forced.status, 200);
      assert.equal(forced.body.quota_set.instances, 1);
    });

    it('400 on bad values and keys per microversion', async () => {
      badRequest(await put(demoProject, { instances: 'abc' }));
      badRequest(await put(demoProject, { instances: -2 }));
      badRequest(await put(demoProject, { instances: '-5' }), 'Invalid input for field/attribute instances. Value: -5. -5 is less than the minimum of -1');
      badRequest(await put(demoProject, { instances: 2147483648 }));
      badRequest(await put(demoProject, { instances: 1.5 }));
      badRequest(await put(demoProject, { bogus: 1 }), "Additional properties are not allowed ('bogus' was unexpected)");
      badRequest(await put(demoProject, { force: 'maybe' }));
      assert.equal((await put(demoProject, { floating_ips: 5 }, '2.35')).status, 200);
      badRequest(await put(demoProject, { floating_ips: 5 }, '2.36'));
      assert.equal((await put(demoProject, { injected_files: 3 }, '2.56')).status, 200);
      badRequest(await put(demoProject, { injected_files: 3 }, '2.57'));
      badRequest(await cloud.request({ method: 'PUT', url: qs(demoProject), body: {}, as: 'admin' }), "'quota_set' is a required property");
      badRequest(await cloud.request({ method: 'PUT', url: qs(demoProject), body: 'x', as: 'admin' }));
    });

    it('per-user quotas: bounded by the project, shown with user_id', async () => {
      await put(demoProject, { instances: 10 });
      const u = await put(demoProject, { instances: 4 }, undefined, 'admin', `?user_id=${demoUser}`);
      assert.equal(u.status, 200, u.text);
      assert.equal(u.body.quota_set.instances, 4);
      const show = await cloud.request({ url: qs(demoProject, `?user_id=${demoUser}`) });
      assert.equal(show.body.quota_set.instances, 4);
      assert.equal((await cloud.request({ url: qs(demoProject) })).body.quota_set.instances, 10);
      badRequest(
        await put(demoProject, { instances: 11 }, undefined, 'admin', `?user_id=${demoUser}`),
        'Quota limit 11 for instances must be less than or equal to 10.',
      );
      badRequest(
        await put(demoProject, { instances: 0 }, undefined, 'admin', `?user_id=${demoUser}`),
        'Quota limit 0 for instances must be greater than or equal to already used and reserved 1.',
      );
      // the project limit cannot drop below what users were given
      badRequest(await put(demoProject, { instances: 3 }), 'Quota limit 3 for instances must be greater than or equal to already used and reserved 4.');
      const delUser = await cloud.request({ method: 'DELETE', url: qs(demoProject, `?user_id=${demoUser}`), as: 'admin' });
      assert.equal(delUser.status, 202);
      assert.equal((await cloud.request({ url: qs(demoProject, `?user_id=${demoUser}`) })).body.quota_set.instances, 10);
    });

    it('delete reverts to defaults (202)', async () => {
      await put(demoProject, { cores: 7 });
      const del = await cloud.request({ method: 'DELETE', url: qs(demoProject), as: 'admin' });
      assert.equal(del.status, 202);
      assert.equal(del.text, '');
      const show = await cloud.request({ url: qs(demoProject) });
      assert.equal(show.body.quota_set.cores, 20);
      assert.equal(show.body.quota_set.instances, 10);
    });

    it('strict query from 2.75', async () => {
      assert.equal((await cloud.request({ url: qs(demoProject, '?foo=1'), version: '2.74' })).status, 200);
      badRequest(await cloud.request({ url: qs(demoProject, '?foo=1'), version: '2.75' }));
      badRequest(await cloud.request({ url: qs(demoProject, '/detail?foo=1'), version: '2.75' }));
    });
  });
});

describe('availability zones', () => {
  let cloud: TestCloud;
  before(async () => {
    cloud = await startTestCloud({
      compute: { hosts: [{ name: 'c1', availability_zone: 'az2' }, { name: 'c2', availability_zone: 'az1' }, { name: 'c3', availability_zone: 'az1' }] },
    });
  });
  after(async () => {
    await cloud.close();
  });

  it('lists zones with compute hosts, without hosts', async () => {
    const res = await cloud.request({ url: `${V}/os-availability-zone` });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, {
      availabilityZoneInfo: [
        { zoneName: 'az1', zoneState: { available: true }, hosts: null },
        { zoneName: 'az2', zoneState: { available: true }, hosts: null },
      ],
    });
  });

  it('detail (admin) shows hosts with their services and the internal zone', async () => {
    const res = await cloud.request({ url: `${V}/os-availability-zone/detail`, as: 'admin' });
    assert.equal(res.status, 200);
    const zones = res.body.availabilityZoneInfo as { zoneName: string; zoneState: { available: boolean }; hosts: Record<string, Record<string, unknown>> }[];
    assert.deepEqual(zones.map((z) => z.zoneName), ['internal', 'az1', 'az2']);
    const az1 = zones[1];
    assert.deepEqual(Object.keys(az1?.hosts ?? {}), ['c2', 'c3']);
    const svc = az1?.hosts.c2?.['nova-compute'] as { available: boolean; active: boolean; updated_at: string };
    assert.equal(svc.available, true);
    assert.equal(svc.active, true);
    assert.match(svc.updated_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/);
    const internal = Object.values(zones[0]?.hosts ?? {})[0] ?? {};
    assert.deepEqual(Object.keys(internal).sort(), ['nova-conductor', 'nova-scheduler']);
  });

  it('detail is admin only', async () => {
    const res = await cloud.request({ url: `${V}/os-availability-zone/detail` });
    assert.equal(res.status, 403);
    assert.equal(res.body.forbidden.message, "Policy doesn't allow os_compute_api:os-availability-zone:detail to be performed.");
  });

  it('strict query from 2.102', async () => {
    assert.equal((await cloud.request({ url: `${V}/os-availability-zone?foo=1`, version: '2.101' })).status, 200);
    assert.equal((await cloud.request({ url: `${V}/os-availability-zone?foo=1`, version: '2.102' })).status, 400);
  });

  it('the default zone when hosts do not name one', async () => {
    const other = await startTestCloud();
    try {
      const res = await other.request({ url: `${V}/os-availability-zone` });
      assert.deepEqual(res.body.availabilityZoneInfo, [{ zoneName: 'nova', zoneState: { available: true }, hosts: null }]);
    } finally {
      await other.close();
    }
  });
});
