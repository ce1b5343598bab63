import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestCloud, type TestCloud } from '../../helpers/cloud.js';
import { boot } from '../../helpers/servers.js';

describe('action: addSecurityGroup / removeSecurityGroup, and the security group proxy', () => {
  let cloud: TestCloud;
  before(async () => {
    cloud = await startTestCloud({ quotas: { instances: -1, cores: -1, ram: -1 } });
  });
  after(async () => {
    await cloud.close();
  });
  type Who = 'demo' | 'admin' | 'alt_demo';
  const act = (id: string, body: unknown, as: Who = 'demo', version?: string) =>
    cloud.request({ method: 'POST', url: `/compute/v2.1/servers/${id}/action`, as, body, ...(version ? { version } : {}) });
  const show = async (id: string, as: Who = 'demo') => (await cloud.request({ url: `/compute/v2.1/servers/${id}`, as })).body.server;
  const createGroup = async (name: string, as: Who = 'demo') => {
    const res = await cloud.request({ method: 'POST', url: '/compute/v2.1/os-security-groups', as, body: { security_group: { name, description: `${name} group` } } });
    assert.equal(res.status, 200, res.text);
    return res.body.security_group as { id: string; name: string; tenant_id: string; description: string; rules: unknown[] };
  };
  const demoProject = async () => (await cloud.request({ url: '/compute/v2.1/os-security-groups' })).body.security_groups[0].tenant_id as string;

  it('adds a group by name and by id, shows it on the server, removes it (202, no body)', async () => {
    const id = await boot(cloud);
    const web = await createGroup('web');
    const db = await createGroup('db');
    const add = await act(id, { addSecurityGroup: { name: 'web' } });
    assert.equal(add.status, 202);
    assert.equal(add.text, '');
    assert.equal((await act(id, { addSecurityGroup: { name: db.id } })).status, 202, 'by id, as the openstack CLI sends it');
    assert.deepEqual((await show(id)).security_groups, [{ name: 'default' }, { name: 'web' }, { name: 'db' }]);
    const listed = await cloud.request({ url: `/compute/v2.1/servers/${id}/os-security-groups` });
    assert.equal(listed.status, 200);
    assert.deepEqual(
      listed.body.security_groups.map((g: { name: string }) => g.name),
      ['db', 'default', 'web'],
    );
    assert.deepEqual(listed.body.security_groups.find((g: { name: string }) => g.name === 'web'), {
      id: web.id, description: 'web group', name: 'web', tenant_id: web.tenant_id, rules: [],
    });
    assert.equal((await act(id, { removeSecurityGroup: { name: web.id } })).status, 202);
    assert.equal((await act(id, { removeSecurityGroup: { name: 'db' } })).status, 202);
    assert.deepEqual((await show(id)).security_groups, [{ name: 'default' }]);
  });

  it('refuses an unknown group (404), a duplicate (400) and removing an absent one (404) with Nova\'s messages', async () => {
    const id = await boot(cloud);
    const project = await demoProject();
    const web = await createGroup('web2');
    const unknown = await act(id, { addSecurityGroup: { name: 'nope' } });
    assert.deepEqual(unknown.body, { itemNotFound: { code: 404, message: `Security group nope is not found for project ${project}` } });
    const unknownRemove = await act(id, { removeSecurityGroup: { name: 'nope' } });
    assert.equal(unknownRemove.status, 404);
    const dup = await act(id, { addSecurityGroup: { name: 'default' } });
    assert.equal(dup.status, 400);
    assert.match(dup.body.badRequest.message, /^Invalid input for security_groups\. Reason: Duplicate items in the list: '[0-9a-f-]{36}'\.$/);
    const absent = await act(id, { removeSecurityGroup: { name: 'web2' } });
    assert.deepEqual(absent.body, { itemNotFound: { code: 404, message: `Security group web2 not associated with the instance ${id}` } });
    assert.equal((await act(id, { addSecurityGroup: { name: web.id } })).status, 202);
    assert.equal((await act(id, { addSecurityGroup: { name: 'web2' } })).status, 400, 'by name after by id: the same group');
  });

  it('needs ports: a server booted with networks "none" has none (404)', async () => {
    const id = await boot(cloud, { version: '2.37', extra: { networks: 'none' } });
    const res = await act(id, { addSecurityGroup: { name: 'default' } });
    assert.deepEqual(res.body, { itemNotFound: { code: 404, message: `instance_id ${id} could not be found as device id on any ports` } });
    const listed = await cloud.request({ url: `/compute/v2.1/servers/${id}/os-security-groups` });
    assert.deepEqual(listed.body, { security_groups: [] });
  });

  it('a name shared by two groups is ambiguous (409)', async () => {
    const id = await boot(cloud);
    await createGroup('twin');
    await createGroup('twin');
    const res = await act(id, { addSecurityGroup: { name: 'twin' } });
    assert.deepEqual(res.body, { conflictingRequest: { code: 409, message: "Multiple security_group matches found for name 'twin', use an ID to be more specific." } });
  });

  it('validates the body (400, never 500)', async () => {
    const id = await boot(cloud);
    for (const body of [
      { addSecurityGroup: null },
      { addSecurityGroup: {} },
      { addSecurityGroup: { name: '' } },
      { addSecurityGroup: { name: 5 } },
      { addSecurityGroup: { name: 'x', extra: 1 } },
      { removeSecurityGroup: 'default' },
    ]) {
      assert.equal((await act(id, body)).status, 400, JSON.stringify(body));
    }
    const blank = await act(id, { addSecurityGroup: { name: '   ' } });
    assert.deepEqual(blank.body, { badRequest: { code: 400, message: 'Security group name cannot be empty' } });
  });

  it('is not lock-checked, works in any state, and asks the policy', async () => {
    const id = await boot(cloud);
    await createGroup('locked-ok');
    assert.equal((await act(id, { lock: null })).status, 202);
    assert.equal((await act(id, { addSecurityGroup: { name: 'locked-ok' } })).status, 202);
    assert.equal((await act(id, { 'os-stop': null }, 'admin')).status, 202, 'admins pass the lock');
    await cloud.settle();
    assert.equal((await act(id, { removeSecurityGroup: { name: 'locked-ok' } })).status, 202);
    assert.equal((await act(id, { addSecurityGroup: { name: 'default' } }, 'alt_demo')).status, 404, "another project's server");
    assert.equal((await cloud.request({ url: `/compute/v2.1/servers/${id}/os-security-groups`, as: 'alt_demo' })).status, 404);
    assert.equal((await act(id, { addSecurityGroup: { name: 'locked-ok' } }, 'admin')).status, 404, "an admin names groups of the admin's project");
    const sg = (await cloud.request({ url: '/compute/v2.1/os-security-groups' })).body.security_groups.find((g: { name: string }) => g.name === 'locked-ok');
    assert.equal((await act(id, { addSecurityGroup: { name: sg.id } }, 'admin')).status, 202, 'or any group by id');
  });

  it('applies policy overrides with the rule names of Nova', async () => {
    const { writeFileSync, mkdtempSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'stratus-sg-'));
    const file = join(dir, 'policy.yaml');
    writeFileSync(file, '"os_compute_api:os-security-groups:add": "rule:context_is_admin"\n"os_compute_api:os-security-groups:list": "!"\n');
    const c = await startTestCloud({ policy_file: file });
    try {
      const id = await boot(c);
      const res = await c.request({ method: 'POST', url: `/compute/v2.1/servers/${id}/action`, body: { addSecurityGroup: { name: 'default' } } });
      assert.deepEqual(res.body, { forbidden: { code: 403, message: "Policy doesn't allow os_compute_api:os-security-groups:add to be performed." } });
      const list = await c.request({ url: `/compute/v2.1/servers/${id}/os-security-groups` });
      assert.equal(list.status, 403);
    } finally {
      await c.close();
    }
  });

  describe('the /os-security-groups proxy (up to 2.35)', () => {
    it('lists, creates, shows, updates and deletes', async () => {
      const list = await cloud.request({ url: '/compute/v2.1/os-security-groups' });
      assert.equal(list.status, 200);
      const def = list.body.security_groups.find((g: { name: string }) => g.name === 'default');
      assert.ok(def, 'the default group exists');
      const made = await createGroup('proxy');
      const got = await cloud.request({ url: `/compute/v2.1/os-security-groups/${made.id}` });
      assert.deepEqual(got.body, { security_group: made });
      const upd = await cloud.request({ method: 'PUT', url: `/compute/v2.1/os-security-groups/${made.id}`, body: { security_group: { name: 'proxy2', description: 'd' } } });
      assert.equal(upd.status, 200);
      assert.equal(upd.body.security_group.name, 'proxy2');
      const del = await cloud.request({ method: 'DELETE', url: `/compute/v2.1/os-security-groups/${made.id}` });
      assert.equal(del.status, 202);
      assert.equal((await cloud.request({ url: `/compute/v2.1/os-security-groups/${made.id}` })).status, 404);
      const bad = await cloud.request({ url: '/compute/v2.1/os-security-groups/not-a-uuid' });
      assert.deepEqual(bad.body, { badRequest: { code: 400, message: 'Security group id should be uuid' } });
      assert.equal((await cloud.request({ url: `/compute/v2.1/os-security-groups/${made.id}`, as: 'alt_demo' })).status, 404);
    });

    it('is gone from 2.36 (404)', async () => {
      assert.equal((await cloud.request({ url: '/compute/v2.1/os-security-groups', version: '2.36' })).status, 404);
      assert.equal((await cloud.request({ url: '/compute/v2.1/os-security-groups', version: '2.35' })).status, 200);
    });

    it('refuses to delete a group in use or the default group (400), and to create another default (403)', async () => {
      const id = await boot(cloud);
      const g = await createGroup('inuse');
      assert.equal((await act(id, { addSecurityGroup: { name: 'inuse' } })).status, 202);
      const del = await cloud.request({ method: 'DELETE', url: `/compute/v2.1/os-security-groups/${g.id}` });
      assert.deepEqual(del.body, { badRequest: { code: 400, message: `Security Group ${g.id} in use.` } });
      const list = await cloud.request({ url: '/compute/v2.1/os-security-groups' });
      const def = list.body.security_groups.find((x: { name: string }) => x.name === 'default');
      assert.equal((await cloud.request({ method: 'DELETE', url: `/compute/v2.1/os-security-groups/${def.id}` })).status, 400);
      const again = await cloud.request({ method: 'POST', url: '/compute/v2.1/os-security-groups', body: { security_group: { name: 'default', description: '' } } });
      assert.equal(again.status, 403);
      const missing = await cloud.request({ method: 'POST', url: '/compute/v2.1/os-security-groups', body: { security_group: { name: 'x' } } });
      assert.equal(missing.status, 400);
    });

    it('lets the renamed group follow its servers', async () => {
      const id = await boot(cloud);
      const g = await createGroup('before');
      assert.equal((await act(id, { addSecurityGroup: { name: 'before' } })).status, 202);
      await cloud.request({ method: 'PUT', url: `/compute/v2.1/os-security-groups/${g.id}`, body: { security_group: { name: 'after', description: '' } } });
      assert.deepEqual((await show(id)).security_groups, [{ name: 'default' }, { name: 'after' }]);
    });
  });
});
