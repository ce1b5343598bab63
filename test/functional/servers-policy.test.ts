import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestCloud, type TestCloud } from '../helpers/cloud.js';
import { boot, cirrosId } from '../helpers/servers.js';
import { readerToken } from '../helpers/actions.js';

describe('servers: policy', () => {
  let cloud: TestCloud;
  let id: string;
  let reader: string;
  before(async () => {
    cloud = await startTestCloud();
    id = await boot(cloud);
    reader = await readerToken(cloud);
  });
  after(async () => {
    await cloud.close();
  });

  it('lets a reader list and show but not create, update or delete', async () => {
    const as = { token: reader };
    assert.equal((await cloud.request({ url: '/compute/v2.1/servers', as })).status, 200);
    assert.equal((await cloud.request({ url: `/compute/v2.1/servers/${id}`, as })).status, 200);
    assert.equal((await cloud.request({ url: `/compute/v2.1/servers/${id}/metadata`, as })).status, 200);
    const create = await cloud.request({
      method: 'POST',
      url: '/compute/v2.1/servers',
      as,
      body: { server: { name: 'r', flavorRef: '1', imageRef: await cirrosId(cloud) } },
    });
    assert.equal(create.status, 403);
    assert.deepEqual(create.body, { forbidden: { code: 403, message: "Policy doesn't allow os_compute_api:servers:create to be performed." } });
    const upd = await cloud.request({ method: 'PUT', url: `/compute/v2.1/servers/${id}`, as, body: { server: { name: 'x' } } });
    assert.equal(upd.body.forbidden.message, "Policy doesn't allow os_compute_api:servers:update to be performed.");
    const del = await cloud.request({ method: 'DELETE', url: `/compute/v2.1/servers/${id}`, as });
    assert.equal(del.body.forbidden.message, "Policy doesn't allow os_compute_api:servers:delete to be performed.");
    const meta = await cloud.request({ method: 'POST', url: `/compute/v2.1/servers/${id}/metadata`, as, body: { metadata: { a: 'b' } } });
    assert.equal(meta.body.forbidden.message, "Policy doesn't allow os_compute_api:server-metadata:create to be performed.");
  });

  it('asks for the extended attributes policy: admins see host, members do not', async () => {
    const member = (await cloud.request({ url: `/compute/v2.1/servers/${id}`, version: '2.3' })).body.server;
    assert.equal('OS-EXT-SRV-ATTR:host' in member, false);
    const admin = (await cloud.request({ url: `/compute/v2.1/servers/${id}`, version: '2.3', as: 'admin' })).body.server;
    assert.ok('OS-EXT-SRV-ATTR:user_data' in admin);
  });
});

describe('servers: policy file overrides', () => {
  it('applies rules from policy.yaml at start', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stratus-policy-'));
    const file = join(dir, 'policy.yaml');
    writeFileSync(file, '"os_compute_api:servers:index": "rule:context_is_admin"\n"os_compute_api:os-extended-server-attributes": "rule:project_reader_api"\n');
    const cloud = await startTestCloud({ policy_file: file });
    try {
      const denied = await cloud.request({ url: '/compute/v2.1/servers' });
      assert.equal(denied.status, 403);
      assert.equal(denied.body.forbidden.message, "Policy doesn't allow os_compute_api:servers:index to be performed.");
      assert.equal((await cloud.request({ url: '/compute/v2.1/servers', as: 'admin' })).status, 200);
      const id = await boot(cloud);
      const shown = (await cloud.request({ url: `/compute/v2.1/servers/${id}` })).body.server;
      assert.ok('OS-EXT-SRV-ATTR:host' in shown, 'extended attributes opened to readers by the file');
    } finally {
      await cloud.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('servers: soft delete', () => {
  it('soft-deletes when reclaim_instance_interval is set', async () => {
    const cloud = await startTestCloud({ compute: { reclaim_instance_interval: 3600 } });
    try {
      const id = await boot(cloud);
      assert.equal((await cloud.request({ method: 'DELETE', url: `/compute/v2.1/servers/${id}` })).status, 204);
      await cloud.bus.drain();
      const shown = (await cloud.request({ url: `/compute/v2.1/servers/${id}` })).body.server;
      assert.equal(shown.status, 'SOFT_DELETED');
      assert.equal(shown['OS-EXT-STS:power_state'], 4);
      const listed = await cloud.request({ url: '/compute/v2.1/servers' });
      assert.equal(listed.body.servers.length, 0, 'soft-deleted servers are not listed by default');
      const byStatus = await cloud.request({ url: '/compute/v2.1/servers?status=SOFT_DELETED' });
      assert.equal(byStatus.body.servers.length, 1);
    } finally {
      await cloud.close();
    }
  });
});

describe('noauth mode', () => {
  it('takes user:project tokens', async () => {
    const cloud = await startTestCloud({ auth: { mode: 'noauth' } });
    try {
      const res = await cloud.request({ url: '/compute/v2.1/servers', as: { token: 'someone:p1' } });
      assert.equal(res.status, 200);
      assert.equal((await cloud.request({ url: '/compute/v2.1/servers', as: null })).status, 401);
    } finally {
      await cloud.close();
    }
  });
});
