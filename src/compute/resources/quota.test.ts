import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { Insertable } from 'kysely';
import { openDatabase, type Db } from '../../db/index.js';
import { makeConfig, type Config } from '../../config/index.js';
import { ApiError } from '../../errors.js';
import type { InstanceRow } from '../tables.js';
import {
  checkInstanceQuota,
  checkKeypairQuota,
  checkMetadataItemsQuota,
  checkServerQuota,
  countInstances,
  quotaDefaults,
  quotaLimits,
  quotaUsage,
} from './quota.js';

async function addInstance(db: Db, o: { project: string; user: string; vcpus: number; ram: number; vmState?: string; deleted?: boolean }) {
  const now = '2026-01-01T00:00:00.000000';
  const row: Insertable<InstanceRow> = {
    uuid: randomUUID(),
    project_id: o.project,
    user_id: o.user,
    display_name: 's',
    display_description: null,
    hostname: 's',
    image_ref: '',
    flavor: JSON.stringify({ vcpus: o.vcpus, memory_mb: o.ram }),
    flavor_id: '1',
    vcpus: o.vcpus,
    memory_mb: o.ram,
    root_gb: 1,
    ephemeral_gb: 0,
    vm_state: o.vmState ?? 'active',
    task_state: null,
    power_state: 1,
    host: null,
    node: null,
    availability_zone: null,
    requested_az: null,
    launched_at: null,
    terminated_at: null,
    created_at: now,
    updated_at: now,
    deleted_at: null,
    deleted: o.deleted ? 1 : 0,
    key_name: null,
    key_data: null,
    user_data: null,
    config_drive: '',
    access_ip_v4: null,
    access_ip_v6: null,
    disk_config: 'MANUAL',
    progress: 0,
    reservation_id: 'r-1',
    launch_index: 0,
    root_device_name: null,
    kernel_id: '',
    ramdisk_id: '',
    locked: 0,
    locked_by: null,
    locked_reason: null,
    security_groups: '[]',
    scheduler_hints: '{}',
    block_device_mapping: '[]',
    requested_networks: '"auto"',
  };
  await db.insertInto('instances').values(row).execute();
}

async function setLimit(db: Db, project: string, resource: string, limit: number, user = '') {
  await db
    .insertInto('quotas')
    .values({ project_id: project, user_id: user, resource, hard_limit: limit })
    .onConflict((oc) => oc.columns(['project_id', 'user_id', 'resource']).doUpdateSet({ hard_limit: limit }))
    .execute();
}

async function rejects403(p: Promise<unknown>, message: string) {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof ApiError);
    assert.equal(err.status, 403);
    assert.equal(err.message, message);
    return true;
  });
}

describe('quota', () => {
  let db: Db;
  let config: Config;
  before(async () => {
    db = await openDatabase(':memory:');
    config = makeConfig({});
  });
  after(async () => {
    await db.destroy();
  });
  beforeEach(async () => {
    await db.deleteFrom('instances').execute();
    await db.deleteFrom('quotas').execute();
    await db.deleteFrom('keypairs').execute();
  });

  it('defaults come from config; network resources are unlimited', () => {
    const d = quotaDefaults(makeConfig({ quotas: { instances: 3 } }));
    assert.equal(d.instances, 3);
    assert.equal(d.cores, 20);
    assert.equal(d.ram, 51200);
    assert.equal(d.floating_ips, -1);
    assert.equal(d.security_group_rules, -1);
  });

  it('project rows override defaults and user rows override project rows', async () => {
    await setLimit(db, 'p1', 'instances', 5);
    await setLimit(db, 'p1', 'cores', 8);
    await setLimit(db, 'p1', 'cores', 4, 'u1');
    const p = await quotaLimits(db, config, 'p1');
    assert.equal(p.instances, 5);
    assert.equal(p.cores, 8);
    assert.equal(p.ram, 51200);
    const u = await quotaLimits(db, config, 'p1', 'u1');
    assert.equal(u.instances, 5);
    assert.equal(u.cores, 4);
    assert.equal((await quotaLimits(db, config, 'p2')).instances, 10);
  });

  it('counts live instances only, per project and per user', async () => {
    await addInstance(db, { project: 'p1', user: 'u1', vcpus: 2, ram: 512 });
    await addInstance(db, { project: 'p1', user: 'u2', vcpus: 1, ram: 256 });
    await addInstance(db, { project: 'p1', user: 'u1', vcpus: 4, ram: 1024, deleted: true });
    await addInstance(db, { project: 'p1', user: 'u1', vcpus: 4, ram: 1024, vmState: 'soft-delete' });
    await addInstance(db, { project: 'p2', user: 'u1', vcpus: 8, ram: 4096 });
    const c = await countInstances(db, 'p1', 'u1');
    assert.deepEqual(c.project, { instances: 2, cores: 3, ram: 768 });
    assert.deepEqual(c.user, { instances: 1, cores: 2, ram: 512 });
    const usage = await quotaUsage(db, 'p1');
    assert.deepEqual(usage, { instances: 2, cores: 3, ram: 768, key_pairs: 0, server_groups: 0, server_group_members: 0 });
    await db.insertInto('keypairs').values({ name: 'k', user_id: 'u1', fingerprint: 'f', public_key: 'x', type: 'ssh', created_at: 'now' }).execute();
    assert.equal((await quotaUsage(db, 'p1', 'u1')).key_pairs, 1);
    assert.equal((await quotaUsage(db, 'p1', 'u1')).instances, 1);
  });

  it('checkServerQuota passes within quota and words the instances fault like Nova', async () => {
    await setLimit(db, 'p1', 'instances', 2);
    await addInstance(db, { project: 'p1', user: 'u1', vcpus: 1, ram: 512 });
    await checkServerQuota(db, config, 'p1', 'u1', { instances: 1, cores: 1, ram: 512 });
    await addInstance(db, { project: 'p1', user: 'u1', vcpus: 1, ram: 512 });
    await rejects403(
      checkServerQuota(db, config, 'p1', 'u1', { instances: 1, cores: 1, ram: 512 }),
      'Quota exceeded for instances: Requested 1, but already used 2 of 2 instances',
    );
  });

  it('joins several exceeded resources in sorted order', async () => {
    await setLimit(db, 'p1', 'cores', 2);
    await setLimit(db, 'p1', 'ram', 1024);
    await addInstance(db, { project: 'p1', user: 'u1', vcpus: 2, ram: 512 });
    await rejects403(
      checkServerQuota(db, config, 'p1', 'u1', { instances: 1, cores: 2, ram: 1024 }),
      'Quota exceeded for cores, ram: Requested 2, 1024, but already used 2, 512 of 2, 1024 cores, ram',
    );
    // A resize only adds cores/ram.
    await checkServerQuota(db, config, 'p1', 'u1', { cores: 0, ram: 512 });
  });

  it('-1 is unlimited', async () => {
    await setLimit(db, 'p1', 'instances', -1);
    for (let i = 0; i < 12; i++) await addInstance(db, { project: 'p1', user: 'u1', vcpus: 1, ram: 1 });
    await checkServerQuota(db, config, 'p1', 'u1', { instances: 1, cores: 1, ram: 1 });
  });

  it('checks a user limit when the user has one of their own', async () => {
    await setLimit(db, 'p1', 'instances', 1, 'u1');
    await addInstance(db, { project: 'p1', user: 'u1', vcpus: 1, ram: 1 });
    await rejects403(
      checkServerQuota(db, config, 'p1', 'u1', { instances: 1, cores: 1, ram: 1 }),
      'Quota exceeded for instances: Requested 1, but already used 1 of 1 instances',
    );
    // Another user of the project is held to the project limit only.
    await checkServerQuota(db, config, 'p1', 'u2', { instances: 1, cores: 1, ram: 1 });
  });

  it('checkInstanceQuota returns how many fit between min and max', async () => {
    await setLimit(db, 'p1', 'instances', 5);
    await addInstance(db, { project: 'p1', user: 'u1', vcpus: 1, ram: 64 });
    const flavor = { vcpus: 1, memory_mb: 64 };
    assert.equal(await checkInstanceQuota(db, config, 'p1', 'u1', flavor, 1, 3), 3);
    assert.equal(await checkInstanceQuota(db, config, 'p1', 'u1', flavor, 1, 10), 4);
    await rejects403(
      checkInstanceQuota(db, config, 'p1', 'u1', flavor, 5, 10),
      'Quota exceeded for instances: Requested 5-10, but already used 1 of 5 instances',
    );
  });

  it('checkInstanceQuota limits by cores headroom', async () => {
    await setLimit(db, 'p1', 'cores', 5);
    const flavor = { vcpus: 2, memory_mb: 64 };
    assert.equal(await checkInstanceQuota(db, config, 'p1', 'u1', flavor, 1, 4), 2);
    await rejects403(
      checkInstanceQuota(db, config, 'p1', 'u1', flavor, 3, 3),
      'Quota exceeded for cores: Requested 6, but already used 0 of 5 cores',
    );
  });

  it('key pair quota counts the owner and uses the caller limits', async () => {
    await setLimit(db, 'p1', 'key_pairs', 1);
    await checkKeypairQuota(db, config, 'p1', 'u1');
    await db.insertInto('keypairs').values({ name: 'k', user_id: 'u1', fingerprint: 'f', public_key: 'x', type: 'ssh', created_at: 'now' }).execute();
    await rejects403(checkKeypairQuota(db, config, 'p1', 'u1'), 'Quota exceeded, too many key pairs.');
    await checkKeypairQuota(db, config, 'p1', 'u1', 'u2');
    await setLimit(db, 'p1', 'key_pairs', -1, 'u1');
    await checkKeypairQuota(db, config, 'p1', 'u1');
  });

  it('metadata items quota', async () => {
    await checkMetadataItemsQuota(db, config, 'p1', 128);
    await rejects403(checkMetadataItemsQuota(db, config, 'p1', 129), 'Maximum number of metadata items exceeds 128');
  });
});
