import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isoMicro } from '../../src/lib/time.js';
import { startTestCloud, type TestCloud } from '../helpers/cloud.js';
import { boot } from '../helpers/servers.js';
import { assertLedger } from '../helpers/ledger.js';

type Json = Record<string, unknown>;
const CONFIG = { compute: { hosts: [{ name: 'h1', shared_storage: 's' }, { name: 'h2', shared_storage: 's' }] } };

/**
 * The service killed in the middle of a move (the database as the crash
 * left it) and started again: no server keeps a task_state, each ends
 * where Nova's restart handling leaves it, and the ledger holds.
 */
describe('moves cut short by a restart', () => {
  let dir: string;
  let dbPath: string;
  const ids: Record<string, string> = {};
  const migs: Record<string, string> = {};
  let cloud: TestCloud;

  const show = async (id: string): Promise<Json> => (await cloud.request({ url: `/compute/v2.1/servers/${id}`, as: 'admin', version: '2.47' })).body.server as Json;
  const migration = async (uuid: string) => cloud.db.selectFrom('migrations').selectAll().where('uuid', '=', uuid).executeTakeFirstOrThrow();

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'stratus-moves-restart-'));
    dbPath = join(dir, 'stratus.db');
    const first = await startTestCloud(CONFIG, { dbPath });
    const on = (host: string) => boot(first, { as: 'admin', version: '2.74', extra: { host, networks: 'auto' } });
    const now = isoMicro(first.clock.now());
    const row = async (id: string) => first.db.selectFrom('instances').selectAll().where('uuid', '=', id).executeTakeFirstOrThrow();
    const insertMigration = async (id: string, values: Json) => {
      const r = await row(id);
      const uuid = randomUUID();
      await first.db
        .insertInto('migrations')
        .values({
          uuid, instance_uuid: id, source_compute: 'h1', dest_compute: 'h2', source_node: 'h1', dest_node: 'h2', dest_host: '127.0.0.1',
          old_instance_type_id: null, new_instance_type_id: null, status: 'running', migration_type: 'live-migration',
          hidden: 0, old_flavor: r.flavor, new_flavor: r.flavor, old_vm_state: 'active', project_id: r.project_id, user_id: r.user_id,
          cross_cell_move: 0, created_at: now, updated_at: now, deleted_at: null, deleted: 0,
          ...values,
        })
        .execute();
      return uuid;
    };

    // A live migration copying memory when the service died.
    ids.live = await on('h1');
    await first.db.updateTable('instances').set({ task_state: 'migrating' }).where('uuid', '=', ids.live).execute();
    migs.live = await insertMigration(ids.live, {});
    // A live migration whose pre-checks were running in the conductor.
    ids.accepted = await on('h1');
    await first.db.updateTable('instances').set({ task_state: 'migrating' }).where('uuid', '=', ids.accepted).execute();
    migs.accepted = await insertMigration(ids.accepted, { status: 'accepted', dest_compute: null, dest_node: null });
    // A resize confirmed through the API (204) that its source never finished.
    ids.confirm = await on('h1');
    assert.equal((await first.request({ method: 'POST', url: `/compute/v2.1/servers/${ids.confirm}/action`, as: 'admin', body: { resize: { flavorRef: '2' } } })).status, 202);
    await first.settle();
    const m = await first.db.selectFrom('migrations').select('uuid').where('instance_uuid', '=', ids.confirm).executeTakeFirstOrThrow();
    migs.confirm = m.uuid;
    await first.db.updateTable('migrations').set({ status: 'confirming' }).where('uuid', '=', m.uuid).execute();
    // An evacuation rebuilding on its destination.
    ids.evacuate = await on('h1');
    await first.db.updateTable('instances').set({ task_state: 'rebuilding' }).where('uuid', '=', ids.evacuate).execute();
    migs.evacuate = await insertMigration(ids.evacuate, { status: 'pre-migrating', migration_type: 'evacuation' });
    await first.close();
    cloud = await startTestCloud(CONFIG, { dbPath });
    await cloud.settle();
  });

  after(async () => {
    await cloud.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a running live migration stays on its source, ACTIVE; the migration is error', async () => {
    const s = await show(ids.live ?? '');
    assert.equal(s.status, 'ACTIVE', JSON.stringify(s.fault));
    assert.equal(s['OS-EXT-STS:task_state'], null);
    assert.equal(s['OS-EXT-SRV-ATTR:host'], 'h1');
    assert.equal((await migration(migs.live ?? '')).status, 'error');
    const a = await show(ids.accepted ?? '');
    assert.equal(a.status, 'ACTIVE', JSON.stringify(a.fault));
    assert.equal((await migration(migs.accepted ?? '')).status, 'error');
  });

  it('a confirm the API accepted is finished by the source', async () => {
    const s = await show(ids.confirm ?? '');
    assert.equal(s.status, 'ACTIVE');
    assert.equal(s['OS-EXT-SRV-ATTR:host'], 'h2');
    assert.equal((s.flavor as Json).original_name, 'm1.small');
    assert.equal((await migration(migs.confirm ?? '')).status, 'confirmed');
  });

  it('an evacuation cut short is ERROR on its source, the migration failed', async () => {
    const s = await show(ids.evacuate ?? '');
    assert.equal(s.status, 'ERROR');
    assert.equal(s['OS-EXT-STS:task_state'], null);
    assert.equal(s['OS-EXT-SRV-ATTR:host'], 'h1');
    assert.equal((await migration(migs.evacuate ?? '')).status, 'failed');
  });

  it('leaves no live server with a task_state, and the ledger holds', async () => {
    const busy = await cloud.db.selectFrom('instances').select(['uuid', 'task_state']).where('deleted', '=', 0).where('task_state', 'is not', null).execute();
    assert.deepEqual(busy, []);
    await assertLedger(cloud, { label: 'after the restart' });
  });
});
