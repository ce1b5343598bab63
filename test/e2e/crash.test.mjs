// The crash test: the built service, with a file-backed data directory and
// visible timing slow enough to catch servers mid-action, is SIGKILLed while
// actions are running and started again on the same data directory. After it
// settles, every server must still be there (those being deleted gone), none
// may keep a task_state or stay in BUILD, each must be in a state its action
// could sensibly end in (done, or undone), with a power state that matches,
// and no instance-action event may be left open. Three rounds, killed at
// different points: right after the requests, mid first step, mid second step.
// Each round acts on the survivors of the one before (unpause the paused,
// start the stopped, unshelve the shelved, confirm the resized...), so
// reverse actions are cut short too.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { startCrashableService } from './helpers/crashable-service.mjs';
import { computeClient } from './helpers/compute-http.mjs';

const STEP_MS = 300;
/** Milliseconds between the last request of a round and the SIGKILL. */
const KILL_POINTS = [0, STEP_MS / 2, STEP_MS + STEP_MS / 2];
/** Power states (nova/compute/power_state.py) a status may show once settled. */
const POWER = { ACTIVE: [1], PAUSED: [3], SUSPENDED: [7], SHUTOFF: [4], RESCUE: [1], SHELVED: [4], SHELVED_OFFLOADED: [0, 4], VERIFY_RESIZE: [1, 4] };
/** The flavor fresh servers are resized to (set in `before`). */
let resizeRef;

/**
 * Each action: how it is sent, and the statuses the server may settle in
 * after a crash at any point of it (the action done, or undone; ERROR where
 * Nova's own restart sets it), given the status it had before.
 */
const ACTIONS = {
  pause: { body: { pause: null }, outcomes: () => ['ACTIVE', 'PAUSED'] },
  unpause: { body: { unpause: null }, outcomes: () => ['PAUSED', 'ACTIVE'] },
  // Nova (and Stratus) retry a stop or a start cut short.
  stop: { body: { 'os-stop': null }, outcomes: () => ['SHUTOFF'] },
  start: { body: { 'os-start': null }, outcomes: () => ['ACTIVE'] },
  suspend: { body: { suspend: null }, outcomes: () => ['ACTIVE', 'SUSPENDED'] },
  resume: { body: { resume: null }, outcomes: () => ['SUSPENDED', 'ACTIVE'] },
  // A reboot cut short is retried; an ERROR server keeps ERROR unless it got through.
  'reboot-hard': { body: { reboot: { type: 'HARD' } }, outcomes: (b) => (b === 'ERROR' ? ['ERROR', 'ACTIVE'] : ['ACTIVE']) },
  'reboot-soft': { body: { reboot: { type: 'SOFT' } }, outcomes: () => ['ACTIVE'] },
  // A shelve is finished (SHELVED, or offloaded if it got that far) or undone (the guest may already be off).
  shelve: { body: { shelve: null }, outcomes: () => ['SHELVED', 'SHELVED_OFFLOADED', 'ACTIVE', 'SHUTOFF'] },
  // An unshelve cut short mid-spawn is ERROR (Nova's SPAWNING rule).
  unshelve: { body: { unshelve: null }, outcomes: () => ['ACTIVE', 'SHELVED_OFFLOADED', 'SHELVED', 'ERROR'] },
  createImage: { body: (r) => ({ createImage: { name: `crash-snap-${r}` } }), image: true, outcomes: (b) => [b] },
  createBackup: { body: (r) => ({ createBackup: { name: `crash-backup-${r}`, backup_type: 'daily', rotation: 2 } }), image: true, outcomes: (b) => [b] },
  // Nova sets ERROR for a rebuild cut short.
  rebuild: { body: (_r, imageRef) => ({ rebuild: { imageRef } }), outcomes: () => ['ACTIVE', 'ERROR'] },
  rescue: { body: { rescue: null }, outcomes: () => ['ACTIVE', 'RESCUE'] },
  unrescue: { body: { unrescue: null }, outcomes: () => ['RESCUE', 'ACTIVE'] },
  delete: { method: 'DELETE', outcomes: () => [] },
  // A resize cut short before the destination finished is rolled back on the source; after, it waits in VERIFY_RESIZE.
  resize: { body: () => ({ resize: { flavorRef: resizeRef } }), outcomes: () => ['VERIFY_RESIZE', 'ACTIVE'] },
  // The API answered 204: the source finishes the confirm after the restart.
  confirmResize: { body: { confirmResize: null }, outcomes: () => ['ACTIVE'] },
};

/** What a survivor does next, by the status it settled in (an ERROR one with a host is hard-rebooted). */
const NEXT = { VERIFY_RESIZE: 'confirmResize', PAUSED: 'unpause', SHUTOFF: 'start', SUSPENDED: 'resume', RESCUE: 'unrescue', SHELVED: 'unshelve', SHELVED_OFFLOADED: 'unshelve', ERROR: 'reboot-hard' };
/** Actions for ACTIVE servers, taken in turn. */
const FOR_ACTIVE = ['stop', 'pause', 'shelve', 'createImage', 'suspend', 'rescue', 'reboot-hard', 'rebuild', 'createBackup', 'reboot-soft'];
/** The fresh servers of each round and what each does. */
const FRESH = [
  ['pause', 'stop', 'reboot-hard', 'shelve', 'createImage', 'delete', 'suspend', 'rebuild', 'rescue', 'resize'],
  ['createImage', 'shelve', 'delete', 'createBackup', 'resize'],
  ['reboot-soft', 'delete', 'createImage', 'stop'],
];

describe('crash: SIGKILL mid-action and restart on the same data directory', () => {
  let svc;
  let demo;
  let flavorRef;
  let imageRef;
  /** Every server the test made: id → { name, status (last settled), deleted }. */
  const servers = new Map();
  let activeTurn = 0;

  before(async () => {
    svc = await startCrashableService({
      config: {
        compute: { timing: 'visible', step_ms: STEP_MS },
        quotas: { instances: -1, cores: -1, ram: -1 },
      },
    });
    demo = await computeClient(() => svc.base, svc.accounts()['stratus-demo']);
    const flavors = await demo.request('GET', '/flavors');
    flavorRef = flavors.body.flavors.find((f) => f.name === 'm1.nano')?.id;
    assert.ok(flavorRef, `m1.nano missing: ${flavors.text}`);
    resizeRef = flavors.body.flavors.find((f) => f.name === 'm1.micro')?.id;
    assert.ok(resizeRef, `m1.micro missing: ${flavors.text}`);
    const images = await demo.request('GET', '/image/v2/images?name=cirros');
    imageRef = images.body?.images?.[0]?.id;
    assert.ok(imageRef, `cirros missing: ${images.text}`);
  });

  after(async () => {
    if (svc) {
      const status = await svc.stop();
      assert.deepEqual(status, { code: 0, signal: null }, `the service should exit 0 on SIGTERM after the crashes\n${svc.output().slice(-3000)}`);
    }
  });

  /** POSTs a server (at 2.1, so it gets the shared network without naming it); returns its id and the request id. */
  async function create(name) {
    const r = await demo.request('POST', '/servers', { version: '2.1', body: { server: { name, flavorRef, imageRef } } });
    assert.equal(r.status, 202, `create ${name}: ${r.status} ${r.text}`);
    servers.set(r.body.server.id, { name, status: 'BUILD', deleted: false });
    return { id: r.body.server.id, requestId: r.requestId };
  }

  async function detail() {
    const r = await demo.request('GET', '/servers/detail');
    assert.equal(r.status, 200, r.text);
    return r.body.servers;
  }

  const describeServer = (s) =>
    `${s.name} ${s.id}: status ${s.status}, vm_state ${s['OS-EXT-STS:vm_state']}, task_state ${s['OS-EXT-STS:task_state']}, power_state ${s['OS-EXT-STS:power_state']}`;

  /** Polls until `done(servers)`; returns the last listing and whether it got there. */
  async function until(done, timeoutMs) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const list = await detail();
      if (done(list)) return { list, ok: true };
      if (Date.now() > deadline) return { list, ok: false };
      await sleep(100);
    }
  }

  const settled = (list) => list.every((s) => s['OS-EXT-STS:task_state'] === null && s.status !== 'BUILD');

  /** Sends `action` to server `id`; returns what was sent and the ids to check afterwards. */
  async function send(id, action, round) {
    const a = ACTIONS[action];
    const before = servers.get(id)?.status;
    let r;
    if (a.method === 'DELETE') {
      r = await demo.request('DELETE', `/servers/${id}`);
      assert.equal(r.status, 204, `delete ${id}: ${r.status} ${r.text}`);
    } else {
      const body = typeof a.body === 'function' ? a.body(round, imageRef) : a.body;
      r = await demo.request('POST', `/servers/${id}/action`, { body });
      assert.ok(r.status === 202 || r.status === 200 || r.status === 204, `${action} on ${id} (${before}): ${r.status} ${r.text}`);
    }
    return { id, action, before, requestId: r.requestId, imageId: a.image ? r.body?.image_id : undefined };
  }

  for (const [round, killAfterMs] of KILL_POINTS.entries()) {
    it(`round ${round + 1}: kill ${killAfterMs} ms after the requests`, async (t) => {
      // Fresh servers for this round, ACTIVE first.
      const fresh = [];
      for (const [i] of FRESH[round].entries()) fresh.push((await create(`crash-r${round + 1}-${i + 1}`)).id);
      const booted = await until((list) => fresh.every((id) => list.find((s) => s.id === id)?.status === 'ACTIVE'), 30_000);
      assert.ok(booted.ok, `fresh servers did not become ACTIVE:\n${booted.list.filter((s) => fresh.includes(s.id)).map(describeServer).join('\n')}`);
      for (const id of fresh) servers.get(id).status = 'ACTIVE';

      // Every live server gets an action: the survivors by their state, the fresh ones as planned.
      const sent = [];
      for (const [id, s] of servers) {
        if (s.deleted || fresh.includes(id)) continue;
        // An ERROR server without a host (a build cut short) can only be deleted.
        const action = s.status === 'ERROR' && !s.hostId ? 'delete' : (NEXT[s.status] ?? FOR_ACTIVE[activeTurn++ % FOR_ACTIVE.length]);
        sent.push(await send(id, action, round + 1));
      }
      for (const [i, id] of fresh.entries()) sent.push(await send(id, FRESH[round][i], round + 1));
      const build = await create(`crash-r${round + 1}-building`);
      sent.push({ id: build.id, action: 'build', before: 'BUILD', requestId: build.requestId });

      await sleep(killAfterMs);
      const caught = await detail();
      const busy = caught.filter((s) => s['OS-EXT-STS:task_state'] !== null || s.status === 'BUILD');
      assert.ok(busy.length > 0, `nothing was mid-action at the kill point:\n${caught.map(describeServer).join('\n')}`);
      const killed = await svc.kill();
      assert.equal(killed.signal, 'SIGKILL', `the service had already exited: ${JSON.stringify(killed)}\n${svc.output().slice(-3000)}`);
      t.diagnostic(`killed with ${busy.length} of ${caught.length} servers mid-action: ${busy.map((s) => `${s.name}=${s['OS-EXT-STS:task_state'] ?? s.status}`).join(', ')}`);

      await svc.restart();
      const after = await until(settled, 60_000);
      const byId = new Map(after.list.map((s) => [s.id, s]));
      const problems = [];
      if (!after.ok) {
        problems.push(`not settled 60 s after the restart:\n  ${after.list.filter((s) => !settled([s])).map(describeServer).join('\n  ')}`);
      }

      for (const x of sent) {
        const name = servers.get(x.id)?.name;
        if (x.action === 'delete') {
          const r = await demo.request('GET', `/servers/${x.id}`);
          if (r.status !== 404 || byId.has(x.id)) problems.push(`${name} was being deleted but is still there: ${r.status} ${describeServer(r.body?.server ?? {})}`);
          servers.get(x.id).deleted = true;
          continue;
        }
        const s = byId.get(x.id);
        if (s === undefined) {
          const r = await demo.request('GET', `/servers/${x.id}`);
          problems.push(`${name} (${x.action} from ${x.before}) is gone after the restart: GET ${r.status}`);
          servers.get(x.id).deleted = true;
          continue;
        }
        Object.assign(servers.get(x.id), { status: s.status, hostId: s.hostId });
        const allowed = x.action === 'build' ? ['ACTIVE', 'ERROR'] : ACTIONS[x.action].outcomes(x.before);
        if (!allowed.includes(s.status)) problems.push(`${x.action} from ${x.before} cut short, expected ${allowed.join('/')}: ${describeServer(s)}`);
        if (s['OS-EXT-STS:task_state'] !== null) problems.push(`task_state left: ${describeServer(s)}`);
        const power = POWER[s.status];
        if (power !== undefined && !power.includes(s['OS-EXT-STS:power_state'])) problems.push(`power state does not match the status: ${describeServer(s)}`);

        // The action cut short is closed: its events are all finished (Error when interrupted).
        const a = await demo.request('GET', `/servers/${x.id}/os-instance-actions/${x.requestId}`);
        if (a.status !== 200) problems.push(`${name}: GET os-instance-actions/${x.requestId} → ${a.status} ${a.text}`);
        else {
          const open = (a.body.instanceAction.events ?? []).filter((e) => e.finish_time === null || !['Success', 'Error'].includes(e.result));
          if (open.length > 0) problems.push(`${name}: ${x.action} ${x.requestId} has open events ${JSON.stringify(open)}`);
        }
        // A snapshot cut short is either finished or removed, never left queued/saving.
        if (x.imageId) {
          const img = await demo.request('GET', `/image/v2/images/${x.imageId}`);
          if (img.status === 200 && img.body.status !== 'active') problems.push(`${name}: ${x.action} image ${x.imageId} left ${img.body.status}`);
          t.diagnostic(`${x.action} image of ${name}: ${img.status === 200 ? img.body.status : `GET ${img.status}`}`);
        }
      }
      // Nothing else in the project kept a task either.
      for (const s of after.list) if (!servers.has(s.id)) problems.push(`unknown server ${describeServer(s)}`);
      t.diagnostic(`after the restart: ${after.list.map((s) => `${s.name}=${s.status}`).join(', ')}`);
      assert.deepEqual(problems, [], `round ${round + 1} (service log: ${svc.logPath})`);
    });
  }

  it('afterwards every server can still be deleted, and a new one built', async () => {
    const live = [...servers].filter(([, s]) => !s.deleted).map(([id]) => id);
    for (const id of live) {
      const r = await demo.request('DELETE', `/servers/${id}`);
      assert.equal(r.status, 204, `delete ${servers.get(id)?.name}: ${r.status} ${r.text}`);
    }
    const gone = await until((list) => list.length === 0, 30_000);
    assert.ok(gone.ok, `servers left after deleting everything:\n${gone.list.map(describeServer).join('\n')}`);
    const { id } = await create('crash-after');
    const built = await until((list) => list.find((s) => s.id === id)?.status === 'ACTIVE', 30_000);
    assert.ok(built.ok, `a new server did not build: ${built.list.map(describeServer).join('\n')}`);
    assert.ok(svc.starts >= KILL_POINTS.length + 1);
  });
});
