// Server actions with the real `openstack` CLI 6.0 (python3-openstackclient,
// novaclient 18.1, openstacksdk 0.101): one server is taken through every
// action the CLI offers, each checked with `openstack server show -f json`,
// and then `openstack server event list/show` must list every action with the
// request id the service answered the action's POST with (read from the
// CLI's --debug log).
//
// What OSC 6.0 offers (`openstack help server <cmd>`):
// - `--wait` exists only for reboot, rebuild, shelve, unshelve, `server image
//   create` and `server backup create`; stop/start/pause/unpause/suspend/
//   resume/lock/unlock/rescue/unrescue return at the 202, so their result is
//   polled with `server show`.
// - `server lock --reason` needs --os-compute-api-version 2.73, and `server
//   show` prints `locked` only from 2.9.
// - `server set --state` (os-resetState) is admin-only (403 for members).
// - `server add fixed ip` uses os-interface (not served) unless the
//   microversion is below 2.44, so it runs at 2.43; `server remove fixed ip`
//   is broken in OSC 6.0 (it calls `Server.remove_fixed_ip`, which
//   novaclient 18 no longer has: AttributeError), so removeFixedIp goes
//   through openstacksdk's `remove_fixed_ip_from_server` instead.
// - `server event list/show` go through novaclient. (openstacksdk 0.101's own
//   `server_actions()` fails client-side with `InvalidResourceQuery: Invalid
//   query params: server_id`, so the SDK is not used for them.)
// - The clouds.yaml the service writes sets compute_api_version 2.92, so the
//   novaclient-backed commands send 2.92 unless --os-compute-api-version says
//   otherwise; the openstacksdk-backed ones (pause, unpause, suspend, resume,
//   image/backup create, console url show) send the SDK's own version.
// - Without a network endpoint in the catalog, `security group create`,
//   `floating ip create` and `server add/remove floating ip` use Nova's proxy
//   APIs (2.1 - 2.35; addFloatingIp until 2.43) through OSC's own compute API
//   wrapper, which sends no microversion header (so 2.1).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PYTHON, clientEnv, clientsOrSkip, describeRun, openstack, parseJson, run, startService } from './helpers/service.mjs';
import { postedActions } from './helpers/cli-debug.mjs';
import { setTimeout as sleep } from 'node:timers/promises';

/** Nova's instance-action name for each action body key (nova/compute/instance_actions.py). */
const RECORDED = {
  'os-stop': 'stop',
  'os-start': 'start',
  pause: 'pause',
  unpause: 'unpause',
  suspend: 'suspend',
  resume: 'resume',
  lock: 'lock',
  unlock: 'unlock',
  reboot: 'reboot',
  rebuild: 'rebuild',
  rescue: 'rescue',
  unrescue: 'unrescue',
  shelve: 'shelve',
  unshelve: 'unshelve',
  createImage: 'createImage',
  createBackup: 'createBackup',
  'os-resetState': 'resetState',
  trigger_crash_dump: 'trigger_crash_dump',
  changePassword: 'changePassword',
};
/** Actions Nova records no instance action for. */
const UNRECORDED = new Set(['addSecurityGroup', 'removeSecurityGroup', 'addFloatingIp', 'removeFloatingIp', 'addFixedIp', 'removeFixedIp', 'os-getConsoleOutput', 'os-getVNCConsole']);

let skip = false;
let clientProblem = null;
try {
  skip = await clientsOrSkip({ python: ['openstackclient', 'novaclient', 'openstack'] });
} catch (err) {
  clientProblem = err;
}
if (clientProblem) {
  it('the OpenStack clients are installed', () => {
    throw clientProblem;
  });
}

describe('server actions with the openstack CLI', { skip: skip || clientProblem !== null }, () => {
  let svc;
  let id;
  /** Every action POST the CLI made, in order: { action, requestId, cloud }. */
  const posted = [];

  before(async () => {
    svc = await startService({ config: { compute: { timing: 'visible', step_ms: 50 } } });
    const s = parseJson(
      'openstack server create',
      await okRun('server create', ['server', 'create', '--flavor', 'm1.tiny', '--image', 'cirros', '--wait', 'act1', '-f', 'json'], { timeoutMs: 120_000 }),
    );
    assert.equal(s.status, 'ACTIVE');
    id = s.id;
  });
  after(async () => {
    if (svc) {
      const status = await svc.stop();
      assert.equal(status.code, 0, `the service should exit 0 on SIGTERM, got ${JSON.stringify(status)}`);
    }
  });

  async function okRun(what, args, opts) {
    const r = await openstack(svc, args, opts);
    assert.equal(r.code, 0, describeRun(`openstack ${what}`, r));
    return r;
  }

  /** Runs an action command with --debug, asserts exit 0 and remembers the action POSTs it made. */
  async function act(what, args, { expect = [], ...opts } = {}) {
    const r = await okRun(what, ['--debug', ...args], { timeoutMs: 120_000, ...opts });
    const calls = postedActions(r.stderr);
    assert.deepEqual(
      calls.map((c) => c.action),
      expect,
      `openstack ${what} should POST ${JSON.stringify(expect)} to /servers/{id}/action`,
    );
    for (const c of calls) {
      assert.equal(c.serverId, id);
      assert.match(c.requestId ?? '', /^req-[0-9a-f-]{36}$/, `no request id logged for ${c.action}`);
      posted.push({ action: c.action, requestId: c.requestId, cloud: opts.cloud ?? 'stratus-demo' });
    }
    return r;
  }

  async function show(opts) {
    return parseJson('openstack server show', await okRun('server show', ['server', 'show', id, '-f', 'json'], opts));
  }

  /** Polls `openstack server show` until the status is reached with no task_state. */
  async function waitStatus(status, opts) {
    const deadline = Date.now() + 60_000;
    let s;
    for (;;) {
      s = await show(opts);
      if (s.status === status && s['OS-EXT-STS:task_state'] === null) return s;
      if (Date.now() > deadline) break;
      await sleep(200);
    }
    assert.fail(`server ${id} did not reach ${status}: status ${s.status}, task_state ${s['OS-EXT-STS:task_state']}, vm_state ${s['OS-EXT-STS:vm_state']}`);
  }

  const assertState = (s, status, vmState, powerState) => {
    assert.equal(s.status, status);
    assert.equal(s['OS-EXT-STS:vm_state'], vmState);
    assert.equal(s['OS-EXT-STS:task_state'], null);
    if (powerState !== undefined) assert.equal(s['OS-EXT-STS:power_state'], powerState);
  };

  it('server stop / start', async () => {
    await act('server stop', ['server', 'stop', id], { expect: ['os-stop'] });
    assertState(await waitStatus('SHUTOFF'), 'SHUTOFF', 'stopped', 4);
    await act('server start', ['server', 'start', id], { expect: ['os-start'] });
    assertState(await waitStatus('ACTIVE'), 'ACTIVE', 'active', 1);
  });

  it('server pause / unpause', async () => {
    await act('server pause', ['server', 'pause', id], { expect: ['pause'] });
    assertState(await waitStatus('PAUSED'), 'PAUSED', 'paused', 3);
    await act('server unpause', ['server', 'unpause', id], { expect: ['unpause'] });
    assertState(await waitStatus('ACTIVE'), 'ACTIVE', 'active', 1);
  });

  it('server suspend / resume', async () => {
    await act('server suspend', ['server', 'suspend', id], { expect: ['suspend'] });
    assertState(await waitStatus('SUSPENDED'), 'SUSPENDED', 'suspended', 7);
    await act('server resume', ['server', 'resume', id], { expect: ['resume'] });
    assertState(await waitStatus('ACTIVE'), 'ACTIVE', 'active', 1);
  });

  it('server lock --reason (2.73) refuses a member, admin may act; unlock', async () => {
    const v273 = { version: '2.73' };
    await act('server lock', ['server', 'lock', '--reason', 'maintenance', id], { ...v273, expect: ['lock'] });
    let s = await show(v273);
    assert.equal(s.locked, true);
    assert.equal(s.locked_reason, 'maintenance');

    const refused = await openstack(svc, ['server', 'stop', id]);
    assert.notEqual(refused.code, 0, describeRun('openstack server stop (locked)', refused));
    assert.match(refused.stderr, new RegExp(`Instance ${id} is locked \\(HTTP 409\\)`), describeRun('openstack server stop (locked)', refused));

    // An admin passes the lock check.
    await act('server pause (admin, locked)', ['server', 'pause', id], { cloud: 'stratus-admin', expect: ['pause'] });
    await waitStatus('PAUSED');
    await act('server unpause (admin, locked)', ['server', 'unpause', id], { cloud: 'stratus-admin', expect: ['unpause'] });
    await waitStatus('ACTIVE');

    await act('server unlock', ['server', 'unlock', id], { ...v273, expect: ['unlock'] });
    s = await show(v273);
    assert.equal(s.locked, false);
    assert.equal(s.locked_reason, null);
  });

  it('server reboot --soft --wait / --hard --wait', async () => {
    const soft = await act('server reboot --soft', ['server', 'reboot', '--soft', '--wait', id], { expect: ['reboot'] });
    assert.match(soft.stdout, /Complete/);
    assertState(await show(), 'ACTIVE', 'active', 1);
    const hard = await act('server reboot --hard', ['server', 'reboot', '--hard', '--wait', id], { expect: ['reboot'] });
    assert.match(hard.stdout, /Complete/);
    assertState(await show(), 'ACTIVE', 'active', 1);
    const types = posted.filter((p) => p.action === 'reboot');
    assert.equal(types.length, 2);
  });

  it('server rebuild --image --name --wait', async () => {
    await act('server rebuild', ['server', 'rebuild', '--image', 'cirros', '--name', 'act1-rebuilt', '--wait', id, '-f', 'json'], { expect: ['rebuild'] });
    const s = await show();
    assertState(s, 'ACTIVE', 'active', 1);
    assert.equal(s.name, 'act1-rebuilt');
    assert.match(JSON.stringify(s.image), /cirros/);
  });

  it('server rescue / unrescue', async () => {
    await act('server rescue', ['server', 'rescue', id], { expect: ['rescue'] });
    assertState(await waitStatus('RESCUE'), 'RESCUE', 'rescued', 1);
    await act('server unrescue', ['server', 'unrescue', id], { expect: ['unrescue'] });
    assertState(await waitStatus('ACTIVE'), 'ACTIVE', 'active', 1);
  });

  it('server shelve --wait / unshelve --wait', async () => {
    await act('server shelve', ['server', 'shelve', '--wait', id], { expect: ['shelve'] });
    // shelved_offload_time defaults to 0: offloaded at once, host cleared.
    const shelved = await show({ cloud: 'stratus-admin' });
    assertState(shelved, 'SHELVED_OFFLOADED', 'shelved_offloaded');
    assert.equal(shelved['OS-EXT-SRV-ATTR:host'], null);
    await act('server unshelve', ['server', 'unshelve', '--wait', id], { expect: ['unshelve'] });
    const s = await show({ cloud: 'stratus-admin' });
    assertState(s, 'ACTIVE', 'active', 1);
    assert.ok(s['OS-EXT-SRV-ATTR:host'], 'unshelved server has a host');
    // The shelve snapshot is deleted once the server is unshelved.
    const images = parseJson('openstack image list', await okRun('image list', ['image', 'list', '-f', 'json']));
    assert.ok(!images.some((i) => i.Name === 'act1-rebuilt-shelved'), `shelve snapshot left behind: ${JSON.stringify(images)}`);
  });

  it('server image create --wait', async () => {
    await act('server image create', ['server', 'image', 'create', '--name', 'act1-snap', '--property', 'purpose=e2e', '--wait', id, '-f', 'json'], { expect: ['createImage'] });
    const img = parseJson('openstack image show', await okRun('image show', ['image', 'show', 'act1-snap', '-f', 'json']));
    assert.equal(img.status, 'active');
    assert.equal(img.properties.image_type, 'snapshot');
    assert.equal(img.properties.instance_uuid, id);
    assert.equal(img.properties.purpose, 'e2e');
    assertState(await show(), 'ACTIVE', 'active', 1);
  });

  it('server backup create --type --rotate --wait', async () => {
    for (const name of ['act1-bk1', 'act1-bk2']) {
      await act('server backup create', ['server', 'backup', 'create', '--name', name, '--type', 'daily', '--rotate', '1', '--wait', id, '-f', 'json'], { expect: ['createBackup'] });
    }
    const img = parseJson('openstack image show', await okRun('image show', ['image', 'show', 'act1-bk2', '-f', 'json']));
    assert.equal(img.status, 'active');
    assert.equal(img.properties.image_type, 'backup');
    assert.equal(img.properties.backup_type, 'daily');
    // rotation 1: the older daily backup is deleted.
    const images = parseJson('openstack image list', await okRun('image list', ['image', 'list', '-f', 'json']));
    assert.deepEqual(images.filter((i) => i.Name.startsWith('act1-bk')).map((i) => i.Name), ['act1-bk2']);
    assertState(await show(), 'ACTIVE', 'active', 1);
  });

  it('server set --state error / active (admin only)', async () => {
    const denied = await openstack(svc, ['server', 'set', '--state', 'error', id]);
    assert.notEqual(denied.code, 0, describeRun('openstack server set --state (member)', denied));
    assert.match(denied.stderr, /Policy doesn't allow os_compute_api:os-admin-actions:reset_state to be performed\. \(HTTP 403\)/);

    const admin = { cloud: 'stratus-admin' };
    await act('server set --state error', ['server', 'set', '--state', 'error', id], { ...admin, expect: ['os-resetState'] });
    assertState(await show(admin), 'ERROR', 'error');
    await act('server set --state active', ['server', 'set', '--state', 'active', id], { ...admin, expect: ['os-resetState'] });
    assertState(await show(admin), 'ACTIVE', 'active', 1);
  });

  it('server add / remove security group', async () => {
    await okRun('security group create', ['security', 'group', 'create', 'web']);
    await act('server add security group', ['server', 'add', 'security', 'group', id, 'web'], { expect: ['addSecurityGroup'] });
    let s = await show();
    assert.deepEqual(s.security_groups.map((g) => g.name).sort(), ['default', 'web']);
    await act('server remove security group', ['server', 'remove', 'security', 'group', id, 'web'], { expect: ['removeSecurityGroup'] });
    s = await show();
    assert.deepEqual(s.security_groups.map((g) => g.name), ['default']);
  });

  it('server add / remove floating ip (proxy APIs at 2.1)', async () => {
    const fip = parseJson('openstack floating ip create', await okRun('floating ip create', ['floating', 'ip', 'create', 'public', '-f', 'json']));
    assert.match(fip.ip, /^172\.24\.4\.\d+$/);
    await act('server add floating ip', ['server', 'add', 'floating', 'ip', id, fip.ip], { expect: ['addFloatingIp'] });
    let s = await show();
    assert.ok(s.addresses.private.includes(fip.ip), `floating ip missing: ${JSON.stringify(s.addresses)}`);
    await act('server remove floating ip', ['server', 'remove', 'floating', 'ip', id, fip.ip], { expect: ['removeFloatingIp'] });
    s = await show();
    assert.ok(!s.addresses.private.includes(fip.ip), `floating ip still there: ${JSON.stringify(s.addresses)}`);
  });

  it('server add fixed ip (2.43); removeFixedIp through openstacksdk (OSC 6.0 is broken there)', async () => {
    const before = (await show()).addresses.private;
    await act('server add fixed ip', ['server', 'add', 'fixed', 'ip', id, 'private'], { version: '2.43', expect: ['addFixedIp'] });
    let added;
    for (let i = 0; i < 50 && added === undefined; i++) {
      added = (await show()).addresses.private.find((a) => !before.includes(a));
      if (added === undefined) await sleep(200);
    }
    assert.match(added ?? '', /^10\.0\.\d+\.\d+$/, 'no extra fixed address appeared');

    // The CLI itself: `server remove fixed ip` dies client-side in OSC 6.0.
    const broken = await openstack(svc, ['server', 'remove', 'fixed', 'ip', id, added], { version: '2.43' });
    assert.notEqual(broken.code, 0);
    assert.match(broken.stderr, /remove_fixed_ip/, describeRun('openstack server remove fixed ip', broken));

    const script = [
      'import sys, openstack',
      "c = openstack.connect(cloud='stratus-demo')",
      'c.compute.remove_fixed_ip_from_server(sys.argv[1], sys.argv[2])',
      "print('ok')",
    ].join('\n');
    const r = await run(PYTHON, ['-c', script, id, added], { env: clientEnv({ OS_CLIENT_CONFIG_FILE: svc.cloudsYaml }), timeoutMs: 60_000 });
    assert.equal(r.code, 0, describeRun('openstacksdk remove_fixed_ip_from_server', r));
    let gone = false;
    for (let i = 0; i < 50 && !gone; i++) {
      gone = !(await show()).addresses.private.includes(added);
      if (!gone) await sleep(200);
    }
    assert.ok(gone, `${added} was not removed`);
  });

  it('server dump create (2.17), server set --password, console log show, console url show', async () => {
    await act('server dump create', ['server', 'dump', 'create', id], { version: '2.17', expect: ['trigger_crash_dump'] });
    await act('server set --password', ['server', 'set', '--password', 'S3cret-pass', id], { expect: ['changePassword'] });
    assertState(await waitStatus('ACTIVE'), 'ACTIVE', 'active', 1);

    const log = await act('console log show', ['console', 'log', 'show', '--lines', '5', id], { expect: ['os-getConsoleOutput'] });
    assert.ok(log.stdout.trim().split('\n').length <= 5, log.stdout);
    assert.ok(log.stdout.trim().length > 0, 'empty console log');

    // OSC 6.0's `console url show` goes through openstacksdk, which always
    // sends POST /servers/{id}/remote-consoles at 2.8 (whatever
    // --os-compute-api-version says), so no action is POSTed.
    const vnc = parseJson('openstack console url show', await act('console url show', ['console', 'url', 'show', id, '-f', 'json']));
    assert.equal(vnc.protocol, 'vnc');
    assert.equal(vnc.type, 'novnc');
    assert.match(vnc.url, /^http:\/\/127\.0\.0\.1:\d+\/compute\/console\/novnc\/vnc_auto\.html\?path=%3Ftoken%3D[0-9a-f-]+$/);
    assert.equal((await fetch(vnc.url)).status, 200, 'the console page accepts the token');
    const serial = parseJson('openstack console url show --serial', await act('console url show --serial', ['console', 'url', 'show', '--serial', id, '-f', 'json']));
    assert.equal(serial.protocol, 'serial');
    assert.match(serial.url, /^ws:\/\/127\.0\.0\.1:\d+\/compute\/console\/serial\/\?token=/);

    // The legacy os-getVNCConsole action (2.1 - 2.5), which the CLI no longer
    // sends, through novaclient at 2.1.
    const script = [
      'import json, sys',
      'from novaclient import client',
      'from openstack import config',
      "cloud = config.OpenStackConfig().get_one('stratus-demo')",
      "nova = client.Client('2.1', session=cloud.get_session())",
      "print(json.dumps(nova.servers.get_vnc_console(sys.argv[1], 'novnc')))",
    ].join('\n');
    const r = await run(PYTHON, ['-c', script, id], { env: clientEnv({ OS_CLIENT_CONFIG_FILE: svc.cloudsYaml }), timeoutMs: 60_000 });
    assert.equal(r.code, 0, describeRun('novaclient get_vnc_console', r));
    const legacy = parseJson('novaclient get_vnc_console', r);
    assert.equal(legacy.console.type, 'novnc');
    assert.equal((await fetch(legacy.console.url)).status, 200, 'the legacy console URL works');
  });

  it('server event list shows every action with its request id, newest first', async () => {
    const events = parseJson('openstack server event list', await okRun('server event list', ['server', 'event', 'list', id, '-f', 'json']));
    for (const e of events) assert.equal(e['Server ID'], id);
    const listed = events.map((e) => [e.Action, e['Request ID']]);
    const expected = posted.filter((p) => RECORDED[p.action] !== undefined).map((p) => [RECORDED[p.action], p.requestId]);
    assert.deepEqual(listed, [...expected.reverse(), ['create', listed.at(-1)?.[1]]]);
    const ids = new Set(events.map((e) => e['Request ID']));
    for (const p of posted) {
      if (UNRECORDED.has(p.action)) assert.ok(!ids.has(p.requestId), `${p.action} should record no instance action (Nova records none)`);
      else assert.ok(RECORDED[p.action] !== undefined, `unexpected action ${p.action}`);
    }
  });

  it('server event show (2.51 member; admin) shows each action and its finished events', async () => {
    const recorded = posted.filter((p) => RECORDED[p.action] !== undefined);
    const problems = [];
    // Four CLI processes at a time.
    for (let i = 0; i < recorded.length; i += 4) {
      await Promise.all(
        recorded.slice(i, i + 4).map(async (p) => {
          const r = await openstack(svc, ['server', 'event', 'show', id, p.requestId, '-f', 'json'], { version: '2.51' });
          if (r.code !== 0) return problems.push(describeRun(`openstack server event show ${p.requestId}`, r));
          const a = JSON.parse(r.stdout);
          const name = RECORDED[p.action];
          if (a.request_id !== p.requestId || a.action !== name || a.instance_uuid !== id) problems.push(`${p.requestId}: ${JSON.stringify(a)}`);
          const events = a.events ?? [];
          // resetState is recorded with no events (Nova finishes the action at once).
          if (name === 'resetState') {
            if (events.length !== 0) problems.push(`${name} ${p.requestId} has events ${JSON.stringify(events)}`);
            return;
          }
          if (events.length === 0) problems.push(`${name} ${p.requestId} has no events`);
          for (const e of events) {
            if (e.result !== 'Success' || !e.finish_time) problems.push(`${name} ${p.requestId}: event ${JSON.stringify(e)}`);
          }
        }),
      );
    }
    assert.deepEqual(problems, []);

    // Admins see the events at any version, with traceback.
    const stop = recorded.find((p) => p.action === 'os-stop');
    const a = parseJson('openstack server event show (admin)', await okRun('server event show', ['server', 'event', 'show', id, stop.requestId, '-f', 'json'], { cloud: 'stratus-admin' }));
    assert.equal(a.action, 'stop');
    assert.deepEqual(a.events.map((e) => [e.event, e.result, e.traceback]), [['compute_stop_instance', 'Success', null]]);
    // Members below 2.51 get the action without events.
    const m = parseJson('openstack server event show (2.1)', await okRun('server event show', ['server', 'event', 'show', id, stop.requestId, '-f', 'json'], { version: '2.1' }));
    assert.equal(m.action, 'stop');
    assert.equal(m.events, undefined);
  });
});
