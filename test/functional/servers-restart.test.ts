import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestCloud } from '../helpers/cloud.js';
import { boot } from '../helpers/servers.js';

describe('servers: restart recovery', () => {
  it('keeps every server across a restart and leaves none in a transitional state', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stratus-restart-'));
    const config = { data_dir: dir };
    const dbPath = join(dir, 'stratus.db');
    try {
      const first = await startTestCloud(config, { dbPath });
      const active = await boot(first, { name: 'survivor' });
      const building = await boot(first, { name: 'was-spawning' });
      const deleting = await boot(first, { name: 'was-deleting' });
      const unplaced = await boot(first, { name: 'never-placed' });
      const rebooting = await boot(first, { name: 'was-rebooting' });
      // Put servers where a crash could have left them.
      const db = first.db;
      await db.updateTable('instances').set({ vm_state: 'building', task_state: 'spawning', launched_at: null }).where('uuid', '=', building).execute();
      await db.updateTable('instances').set({ task_state: 'deleting' }).where('uuid', '=', deleting).execute();
      await db.updateTable('instances').set({ vm_state: 'building', task_state: 'scheduling', host: null, node: null }).where('uuid', '=', unplaced).execute();
      await db.updateTable('instances').set({ task_state: 'rebooting' }).where('uuid', '=', rebooting).execute();
      await first.close();

      const second = await startTestCloud(config, { dbPath });
      try {
        await second.bus.drain();
        const show = async (id: string) => (await second.request({ url: `/compute/v2.1/servers/${id}`, as: 'admin' })).body.server;
        assert.equal((await show(active)).status, 'ACTIVE');
        const b = await show(building);
        assert.equal(b.status, 'ERROR');
        assert.match(b.fault.message, /restarted/);
        assert.equal((await second.request({ url: `/compute/v2.1/servers/${deleting}`, as: 'admin' })).status, 404);
        assert.equal((await show(unplaced)).status, 'ACTIVE');
        const r = await show(rebooting);
        assert.equal(r.status, 'ACTIVE');
        assert.equal(r['OS-EXT-STS:task_state'], null);
        const stuck = await second.db.selectFrom('instances').select(['uuid', 'task_state']).where('deleted', '=', 0).where('task_state', 'is not', null).execute();
        assert.deepEqual(stuck, []);
        const list = await second.request({ url: '/compute/v2.1/servers' });
        assert.equal(list.body.servers.length, 4);
      } finally {
        await second.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
