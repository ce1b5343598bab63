import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { recordActionStart } from '../../src/compute/actions/record.js';
import { shelveImageId } from '../../src/compute/actions/image-support.js';
import type { InstanceUpdate } from '../../src/compute/servers/repo.js';
import { isoMicro } from '../../src/lib/time.js';
import { startTestCloud, type TestCloud } from '../helpers/cloud.js';
import { boot } from '../helpers/servers.js';

const QUOTAS = { instances: -1, cores: -1, ram: -1 };
/** Shelve keeps the server on its host until shelveOffload, so both shelved states can be prepared. */
const CONFIG = { quotas: QUOTAS, compute: { shelved_offload_time: -1 } };

type Prep = 'stop' | 'pause' | 'suspend' | 'rescue' | 'shelve' | 'offload';

interface Case {
  name: string;
  prep?: Prep;
  /** Puts the server where a crash would have left it (first cloud, before it is closed). */
  crash: (c: TestCloud, id: string, scratch: Map<string, string>) => Promise<void>;
  /** What the server must look like after the restart (second cloud). */
  check: (c: TestCloud, id: string, scratch: Map<string, string>) => Promise<void>;
  /** The server is gone after the restart (a delete was finished). */
  deleted?: boolean;
}

const set = (values: InstanceUpdate) => async (c: TestCloud, id: string) => {
  if (Object.keys(values).length === 0) return;
  await c.db.updateTable('instances').set(values).where('uuid', '=', id).execute();
};

const show = async (c: TestCloud, id: string) => {
  const res = await c.request({ url: `/compute/v2.1/servers/${id}`, as: 'admin' });
  assert.equal(res.status, 200, res.text);
  return res.body.server as Record<string, unknown> & { status: string };
};

/** status, power_state, task_state None, and optionally the vm_state. */
const expectState = (status: string, power?: number, more?: (s: Record<string, unknown>) => void) => async (c: TestCloud, id: string) => {
  const s = await show(c, id);
  assert.equal(s.status, status, `status of ${String(s.name)}`);
  assert.equal(s['OS-EXT-STS:task_state'], null);
  if (power !== undefined) assert.equal(s['OS-EXT-STS:power_state'], power, `power_state of ${String(s.name)}`);
  more?.(s);
};

const expectGone = async (c: TestCloud, id: string) => {
  assert.equal((await c.request({ url: `/compute/v2.1/servers/${id}`, as: 'admin' })).status, 404);
  const ports = await c.db.selectFrom('ports').select('id').where('instance_uuid', '=', id).execute();
  assert.deepEqual(ports, [], 'a finished delete releases the ports');
};

const faultMatches = (re: RegExp) => (s: Record<string, unknown>) => {
  const f = s.fault as { message: string } | undefined;
  assert.ok(f, 'a fault is shown');
  assert.match(f.message, re);
};

const imageStatus = async (c: TestCloud, imageId: string | undefined): Promise<string | undefined> => {
  assert.ok(imageId);
  const res = await c.request({ url: `/image/v2/images/${imageId}`, as: 'admin' });
  return res.status === 200 ? String(res.body.status) : undefined;
};

/** Registers (and optionally uploads, or marks saving) an image the way a snapshot of the server does. */
async function halfImage(c: TestCloud, id: string, o: { type: 'snapshot' | 'backup'; status: 'queued' | 'saving' | 'active'; imageId?: string }): Promise<string> {
  const row = await c.db.selectFrom('instances').select('project_id').where('uuid', '=', id).executeTakeFirstOrThrow();
  const img = await c.images.createImage({
    ...(o.imageId ? { id: o.imageId } : {}),
    name: `${o.type} of ${id}`,
    owner: row.project_id,
    disk_format: 'qcow2',
    container_format: 'bare',
    properties: { instance_uuid: id, image_type: o.type, ...(o.type === 'backup' ? { backup_type: 'daily' } : {}) },
  });
  if (o.status === 'active') await c.images.uploadImage(img.id, Buffer.from('disk bytes\n'));
  if (o.status === 'saving') await c.images.setStatus(img.id, 'saving');
  return img.id;
}

/** A shelve whose action was recorded and whose image exists in `status`, as the API and host leave them mid-way. */
async function halfShelve(c: TestCloud, id: string, status: 'queued' | 'saving' | 'active', scratch: Map<string, string>): Promise<void> {
  const row = await c.db.selectFrom('instances').select(['project_id', 'user_id']).where('uuid', '=', id).executeTakeFirstOrThrow();
  const requestId = `req-shelve-${id}`;
  await recordActionStart(c.db, { action: 'shelve', instanceUuid: id, requestId, userId: row.user_id, projectId: row.project_id, now: isoMicro(c.clock.now()) });
  scratch.set(id, await halfImage(c, id, { type: 'snapshot', status, imageId: shelveImageId(id, requestId) }));
}

const CASES: Case[] = [
  { name: 'idle ACTIVE (control)', crash: set({}), check: expectState('ACTIVE', 1) },
  // pause / unpause
  { name: 'pausing, guest running', crash: set({ task_state: 'pausing' }), check: expectState('ACTIVE', 1) },
  { name: 'pausing, guest already paused', crash: set({ task_state: 'pausing', power_state: 3 }), check: expectState('PAUSED', 3) },
  { name: 'unpausing, guest paused (unpause retried)', prep: 'pause', crash: set({ task_state: 'unpausing' }), check: expectState('ACTIVE', 1) },
  // suspend / resume
  { name: 'suspending, guest running', crash: set({ task_state: 'suspending' }), check: expectState('ACTIVE', 1) },
  { name: 'suspending, guest already suspended', crash: set({ task_state: 'suspending', power_state: 7 }), check: expectState('SUSPENDED', 7) },
  { name: 'resuming, guest suspended', prep: 'suspend', crash: set({ task_state: 'resuming' }), check: expectState('SUSPENDED', 7) },
  { name: 'resuming, guest already running', prep: 'suspend', crash: set({ task_state: 'resuming', power_state: 1 }), check: expectState('ACTIVE', 1) },
  // stop / start
  { name: 'powering-off (stop finished)', crash: set({ task_state: 'powering-off' }), check: expectState('SHUTOFF', 4) },
  { name: 'powering-on (start finished)', prep: 'stop', crash: set({ task_state: 'powering-on' }), check: expectState('ACTIVE', 1) },
  // reboot
  { name: 'rebooting, guest running', crash: set({ task_state: 'rebooting' }), check: expectState('ACTIVE', 1) },
  {
    name: 'reboot_pending, guest running (soft reboot retried)',
    crash: set({ task_state: 'reboot_pending' }),
    check: async (c, id) => {
      await expectState('ACTIVE', 1)(c, id);
      const out = await c.request({ method: 'POST', url: `/compute/v2.1/servers/${id}/action`, as: 'admin', body: { 'os-getConsoleOutput': {} } });
      assert.match(String(out.body.output), /reboot: Restarting system/);
    },
  },
  { name: 'reboot_started, guest running', crash: set({ task_state: 'reboot_started' }), check: expectState('ACTIVE', 1) },
  { name: 'rebooting, guest down (becomes a hard reboot)', crash: set({ task_state: 'rebooting', power_state: 4 }), check: expectState('ACTIVE', 1) },
  { name: 'rebooting_hard from SHUTOFF (retried)', prep: 'stop', crash: set({ task_state: 'rebooting_hard' }), check: expectState('ACTIVE', 1) },
  { name: 'reboot_pending_hard from SHUTOFF (retried)', prep: 'stop', crash: set({ task_state: 'reboot_pending_hard' }), check: expectState('ACTIVE', 1) },
  { name: 'reboot_started_hard from SHUTOFF (retried)', prep: 'stop', crash: set({ task_state: 'reboot_started_hard' }), check: expectState('ACTIVE', 1) },
  { name: 'rebooting_hard from PAUSED (retried)', prep: 'pause', crash: set({ task_state: 'rebooting_hard' }), check: expectState('ACTIVE', 1) },
  { name: 'reboot_started_hard, guest running', crash: set({ task_state: 'reboot_started_hard' }), check: expectState('ACTIVE', 1) },
  // rebuild
  { name: 'rebuilding', crash: set({ task_state: 'rebuilding' }), check: expectState('ERROR', undefined, faultMatches(/rebuilt/)) },
  { name: 'rebuild_block_device_mapping', crash: set({ task_state: 'rebuild_block_device_mapping' }), check: expectState('ERROR') },
  { name: 'rebuild_spawning', crash: set({ task_state: 'rebuild_spawning', power_state: 0 }), check: expectState('ERROR', 0) },
  { name: 'rebuilding from SHUTOFF', prep: 'stop', crash: set({ task_state: 'rebuilding' }), check: expectState('ERROR') },
  { name: 'rebuilding from ERROR', crash: set({ vm_state: 'error', task_state: 'rebuilding' }), check: expectState('ERROR') },
  // rescue
  { name: 'rescuing', crash: set({ task_state: 'rescuing' }), check: expectState('ACTIVE', 1) },
  {
    name: 'unrescuing (stays RESCUE, and can be unrescued after the restart)',
    prep: 'rescue',
    crash: set({ task_state: 'unrescuing' }),
    check: async (c, id) => {
      await expectState('RESCUE')(c, id);
      const res = await c.request({ method: 'POST', url: `/compute/v2.1/servers/${id}/action`, body: { unrescue: null } });
      assert.equal(res.status, 202, res.text);
      await c.settle();
      await expectState('ACTIVE', 1)(c, id);
    },
  },
  {
    name: 'idle RESCUE (the re-adopted guest is in rescue again)',
    prep: 'rescue',
    crash: set({}),
    check: async (c, id) => {
      await expectState('RESCUE')(c, id);
      assert.equal((await c.request({ method: 'POST', url: `/compute/v2.1/servers/${id}/action`, body: { unrescue: null } })).status, 202);
      await c.settle();
      await expectState('ACTIVE', 1)(c, id);
    },
  },
  // createImage / createBackup
  ...(['image_snapshot_pending', 'image_snapshot', 'image_pending_upload'] as const).map(
    (t): Case => ({
      name: `${t} (the unfinished image is deleted)`,
      crash: async (c, id, scratch) => {
        scratch.set(id, await halfImage(c, id, { type: 'snapshot', status: t === 'image_pending_upload' ? 'saving' : 'queued' }));
        await set({ task_state: t })(c, id);
      },
      check: async (c, id, scratch) => {
        await expectState('ACTIVE', 1)(c, id);
        assert.equal(await imageStatus(c, scratch.get(id)), undefined);
      },
    }),
  ),
  {
    name: 'image_uploading with the upload complete (the image is kept)',
    crash: async (c, id, scratch) => {
      scratch.set(id, await halfImage(c, id, { type: 'snapshot', status: 'active' }));
      await set({ task_state: 'image_uploading' })(c, id);
    },
    check: async (c, id, scratch) => {
      await expectState('ACTIVE', 1)(c, id);
      assert.equal(await imageStatus(c, scratch.get(id)), 'active');
    },
  },
  {
    name: 'image_backup of a SHUTOFF server (the unfinished backup is deleted)',
    prep: 'stop',
    crash: async (c, id, scratch) => {
      scratch.set(id, await halfImage(c, id, { type: 'backup', status: 'queued' }));
      await set({ task_state: 'image_backup' })(c, id);
    },
    check: async (c, id, scratch) => {
      await expectState('SHUTOFF', 4)(c, id);
      assert.equal(await imageStatus(c, scratch.get(id)), undefined);
    },
  },
  // changePassword
  { name: 'updating_password', crash: set({ task_state: 'updating_password' }), check: expectState('ACTIVE', 1) },
  // shelve / shelveOffload / unshelve
  {
    name: 'shelving (undone, the queued shelve image deleted)',
    crash: async (c, id, scratch) => {
      await halfShelve(c, id, 'queued', scratch);
      await set({ task_state: 'shelving' })(c, id);
    },
    check: async (c, id, scratch) => {
      await expectState('ACTIVE', 1)(c, id);
      assert.equal(await imageStatus(c, scratch.get(id)), undefined);
    },
  },
  {
    name: 'shelving_image_pending_upload (undone)',
    crash: async (c, id, scratch) => {
      await halfShelve(c, id, 'saving', scratch);
      await set({ task_state: 'shelving_image_pending_upload' })(c, id);
    },
    check: async (c, id, scratch) => {
      await expectState('ACTIVE', 1)(c, id);
      assert.equal(await imageStatus(c, scratch.get(id)), undefined);
    },
  },
  {
    name: 'shelving_image_uploading with the image active (shelve completed)',
    crash: async (c, id, scratch) => {
      await halfShelve(c, id, 'active', scratch);
      await set({ task_state: 'shelving_image_uploading' })(c, id);
    },
    check: async (c, id, scratch) => {
      await expectState('SHELVED', 4)(c, id);
      assert.equal(await imageStatus(c, scratch.get(id)), 'active');
      const res = await c.request({ method: 'POST', url: `/compute/v2.1/servers/${id}/action`, body: { unshelve: null } });
      assert.equal(res.status, 202, res.text);
      await c.settle();
      await expectState('ACTIVE', 1)(c, id);
    },
  },
  {
    name: 'shelving_offloading (offload finished)',
    prep: 'shelve',
    crash: set({ task_state: 'shelving_offloading' }),
    check: expectState('SHELVED_OFFLOADED', undefined, (s) => assert.equal(s['OS-EXT-SRV-ATTR:host'], null)),
  },
  { name: 'unshelving a SHELVED server (powered on)', prep: 'shelve', crash: set({ task_state: 'unshelving' }), check: expectState('ACTIVE', 1) },
  { name: 'powering-on of an unshelve (powered on)', prep: 'shelve', crash: set({ task_state: 'powering-on' }), check: expectState('ACTIVE', 1) },
  {
    name: 'unshelving an offloaded server not yet placed (placed again by the conductor)',
    prep: 'offload',
    crash: set({ task_state: 'unshelving' }),
    check: expectState('ACTIVE', 1, (s) => assert.ok(s['OS-EXT-SRV-ATTR:host'])),
  },
  {
    name: 'unshelving an offloaded server placed on a host (spawned there)',
    prep: 'offload',
    crash: set({ task_state: 'unshelving', host: 'compute2', node: 'compute2' }),
    check: expectState('ACTIVE', 1, (s) => assert.equal(s['OS-EXT-SRV-ATTR:host'], 'compute2')),
  },
  {
    name: 'spawning an offloaded server (ERROR, as Nova)',
    prep: 'offload',
    crash: set({ task_state: 'spawning', host: 'compute1', node: 'compute1' }),
    check: expectState('ERROR', 0, faultMatches(/unshelved/)),
  },
  // delete / soft delete / restore
  { name: 'deleting (delete finished)', crash: set({ task_state: 'deleting' }), check: expectGone, deleted: true },
  { name: 'deleting an ERROR server', crash: set({ vm_state: 'error', task_state: 'deleting' }), check: expectGone, deleted: true },
  { name: 'deleting a SOFT_DELETED server (forceDelete)', crash: set({ vm_state: 'soft-delete', task_state: 'deleting', power_state: 4 }), check: expectGone, deleted: true },
  { name: 'soft-deleting (soft delete finished)', crash: set({ task_state: 'soft-deleting' }), check: expectState('SOFT_DELETED', 4) },
  {
    name: 'restoring (restore finished)',
    crash: set({ vm_state: 'soft-delete', task_state: 'restoring', power_state: 4, deleted_at: null }),
    check: expectState('ACTIVE', 1),
  },
  // build
  {
    name: 'spawning (build interrupted: ERROR, off the host, ports released)',
    crash: set({ vm_state: 'building', task_state: 'spawning', launched_at: null, power_state: 0 }),
    check: async (c, id) => {
      await expectState('ERROR', 0, faultMatches(/restarted while the server was being built/))(c, id);
      const row = await c.db.selectFrom('instances').select('host').where('uuid', '=', id).executeTakeFirstOrThrow();
      assert.equal(row.host, null);
      assert.deepEqual(await c.db.selectFrom('ports').select('id').where('instance_uuid', '=', id).execute(), []);
    },
  },
  { name: 'networking', crash: set({ vm_state: 'building', task_state: 'networking', launched_at: null, power_state: 0 }), check: expectState('ERROR') },
  { name: 'block_device_mapping', crash: set({ vm_state: 'building', task_state: 'block_device_mapping', launched_at: null, power_state: 0 }), check: expectState('ERROR') },
  { name: 'scheduling, already placed on a host', crash: set({ vm_state: 'building', task_state: 'scheduling', launched_at: null, power_state: 0 }), check: expectState('ERROR') },
  {
    name: 'scheduling, not yet placed (placed again by the conductor)',
    crash: set({ vm_state: 'building', task_state: 'scheduling', launched_at: null, power_state: 0, host: null, node: null }),
    check: expectState('ACTIVE', 1),
  },
  // ERROR and states Stratus does not set itself
  { name: 'powering-off of an ERROR server', crash: set({ vm_state: 'error', task_state: 'powering-off' }), check: expectState('ERROR') },
  { name: 'resize_prep', crash: set({ task_state: 'resize_prep' }), check: expectState('ACTIVE', 1) },
  { name: 'migrating', crash: set({ task_state: 'migrating' }), check: expectState('ACTIVE', 1) },
  { name: 'an unknown task_state', crash: set({ task_state: 'frobnicating' }), check: expectState('ACTIVE', 1) },
  // a host that is no longer configured
  {
    name: 'pausing on a host no longer configured (ERROR)',
    crash: set({ task_state: 'pausing', host: 'gone-host', node: 'gone-host' }),
    check: expectState('ERROR', undefined, faultMatches(/gone-host could not be found/)),
  },
  { name: 'deleting on a host no longer configured (deleted locally)', crash: set({ task_state: 'deleting', host: 'gone-host', node: 'gone-host' }), check: expectGone, deleted: true },
];

async function prepare(c: TestCloud, id: string, prep: Prep): Promise<void> {
  const act = async (body: unknown, as: 'demo' | 'admin' = 'demo') => {
    const res = await c.request({ method: 'POST', url: `/compute/v2.1/servers/${id}/action`, as, body });
    assert.ok(res.status === 202 || res.status === 200, res.text);
  };
  if (prep === 'stop') await act({ 'os-stop': null });
  if (prep === 'pause') await act({ pause: null });
  if (prep === 'suspend') await act({ suspend: null });
  if (prep === 'rescue') await act({ rescue: null });
  if (prep === 'shelve' || prep === 'offload') await act({ shelve: null });
  if (prep === 'offload') {
    await c.settle();
    await act({ shelveOffload: null }, 'admin');
  }
}

describe('recovery: a restart resolves every transitional task_state', () => {
  const dir = mkdtempSync(join(tmpdir(), 'stratus-recovery-'));
  const dbPath = join(dir, 'stratus.db');
  const config = { data_dir: dir, ...CONFIG };
  const ids = new Map<string, string>();
  const scratch = new Map<string, string>();
  let second: TestCloud;

  before(async () => {
    const first = await startTestCloud(config, { dbPath });
    try {
      for (const [i, c] of CASES.entries()) ids.set(c.name, await boot(first, { name: `case-${i}`, wait: false }));
      await first.settle();
      for (const c of CASES) {
        const id = ids.get(c.name) ?? '';
        if (c.prep) await prepare(first, id, c.prep);
      }
      await first.settle();
      for (const c of CASES) await c.crash(first, ids.get(c.name) ?? '', scratch);
    } finally {
      await first.close();
    }
    second = await startTestCloud(config, { dbPath });
    await second.settle();
  });

  after(async () => {
    await second.close();
    rmSync(dir, { recursive: true, force: true });
  });

  for (const c of CASES) {
    it(c.name, async () => {
      await c.check(second, ids.get(c.name) ?? '', scratch);
    });
  }

  it('leaves no live server with a task_state and loses none', async () => {
    await second.settle();
    const stuck = await second.db.selectFrom('instances').select(['display_name', 'task_state']).where('deleted', '=', 0).where('task_state', 'is not', null).execute();
    assert.deepEqual(stuck, []);
    const live = await second.db.selectFrom('instances').select('uuid').where('deleted', '=', 0).execute();
    const expected = CASES.filter((c) => !c.deleted).map((c) => ids.get(c.name));
    assert.deepEqual(new Set(live.map((r) => r.uuid)), new Set(expected));
  });
});

describe('recovery: killing the service in the middle of real operations', () => {
  it('resolves a build, a pause, a snapshot and a delete cut short, and closes their events', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stratus-kill-'));
    const dbPath = join(dir, 'stratus.db');
    const first = await startTestCloud({ data_dir: dir, quotas: QUOTAS, compute: { timing: 'visible', step_ms: 1000 } }, { dbPath });
    let second: TestCloud | undefined;
    try {
      const paused = await boot(first, { name: 'was-pausing', wait: false });
      const snapped = await boot(first, { name: 'was-snapshotting', wait: false });
      const deleted = await boot(first, { name: 'was-deleting', wait: false });
      await first.settle();
      const act = (id: string, body: unknown) => first.request({ method: 'POST', url: `/compute/v2.1/servers/${id}/action`, body });
      assert.equal((await act(paused, { pause: null })).status, 202);
      const snap = await act(snapped, { createImage: { name: 'cut-short' } });
      assert.equal(snap.status, 202);
      const imageId = String(snap.headers.location).split('/').pop() ?? '';
      assert.equal((await first.request({ method: 'DELETE', url: `/compute/v2.1/servers/${deleted}` })).status, 204);
      const building = await boot(first, { name: 'was-building', wait: false });
      // Let every cast run up to its first virt step, never advancing the clock.
      const tasks = async () =>
        Object.fromEntries(
          (await first.db.selectFrom('instances').select(['uuid', 'task_state']).where('deleted', '=', 0).execute()).map((r) => [r.uuid, r.task_state]),
        );
      for (let i = 0; i < 200; i++) {
        const t = await tasks();
        if (t[building] === 'spawning' && t[snapped] === 'image_pending_upload') break;
        await new Promise((r) => setImmediate(r));
      }
      assert.deepEqual(await tasks(), { [paused]: 'pausing', [snapped]: 'image_pending_upload', [deleted]: 'deleting', [building]: 'spawning' });
      assert.equal(await imageStatus(first, imageId), 'queued');

      // The first service is abandoned mid-way (never closed); a second one starts on the same database.
      second = await startTestCloud({ data_dir: dir, quotas: QUOTAS }, { dbPath });
      await second.settle();
      const s2 = second;
      const state = async (id: string) => {
        const s = await show(s2, id);
        return [s.status, s['OS-EXT-STS:task_state']];
      };
      assert.deepEqual(await state(paused), ['ACTIVE', null]);
      assert.deepEqual(await state(snapped), ['ACTIVE', null]);
      assert.equal(await imageStatus(s2, imageId), undefined);
      await expectGone(s2, deleted);
      const b = await show(s2, building);
      assert.equal(b.status, 'ERROR');
      faultMatches(/restarted/)(b);
      const open = await s2.db.selectFrom('instance_actions_events').select(['event']).where('finish_time', 'is', null).execute();
      assert.deepEqual(open, []);
      const pauseEvents = await s2.db
        .selectFrom('instance_actions_events')
        .innerJoin('instance_actions', 'instance_actions.id', 'instance_actions_events.action_id')
        .select(['instance_actions_events.event', 'instance_actions_events.result', 'instance_actions.message'])
        .where('instance_actions.instance_uuid', '=', paused)
        .where('instance_actions.action', '=', 'pause')
        .execute();
      assert.deepEqual(pauseEvents, [{ event: 'compute_pause_instance', result: 'Error', message: 'Error' }]);
      // Every server recovered can be used again.
      assert.equal((await s2.request({ method: 'POST', url: `/compute/v2.1/servers/${paused}/action`, body: { pause: null } })).status, 202);
      assert.equal((await s2.request({ method: 'DELETE', url: `/compute/v2.1/servers/${building}` })).status, 204);
      await s2.settle();
      assert.equal((await show(s2, paused)).status, 'PAUSED');
      await expectGone(s2, building);
    } finally {
      await second?.close();
      await first.db.destroy();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
