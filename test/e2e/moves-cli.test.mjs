// Moving servers between hosts with the real `openstack` CLI 6.0
// (python3-openstackclient, novaclient 18.1, openstacksdk 0.101) against a
// cloud of three simulated hosts: compute1 and compute2 in zone nova,
// sharing instance storage, compute3 alone in az2 on local storage. One
// server (S) is resized, reverted, migrated, live-migrated and evacuated;
// the compute services are disabled and forced down; server groups place
// their members. A second cloud with slow virt steps (1.5 s) catches live
// migrations while they run to show, abort and force-complete them. After
// every scenario the resource ledger is checked through the API: each
// hypervisor's vcpus_used/memory_mb_used (2.87) is the sum of the flavors of
// the servers on that host and of the moves holding capacity there.
//
// What OSC 6.0 does here (`openstack help <cmd>`; the clouds.yaml the service
// writes sets compute_api_version 2.92, so that is the default version):
// - `server resize --flavor --wait` and `server migrate --wait` poll `server
//   show` every 5 s until the status is ACTIVE or VERIFY_RESIZE; `server
//   resize confirm/revert` and `server migration confirm` return at once, so
//   their end state is polled.
// - `server migrate --host` needs 2.56 (OSC refuses it below, client-side).
// - `server migration list --type` takes cold-migration (sent as
//   migration_type=migration), resize, live-migration, evacuation. The Id and
//   Type columns appear from 2.23, UUID from 2.59, Project/User (with
//   --project/--user) from 2.80.
// - `compute service list/set` and `server group create` go through
//   openstacksdk, whose errors read `<Kind>Exception: 4xx: Client Error for
//   url: <url>, <Nova's message>`. From 2.53 `compute service set` looks the
//   service up by host and binary and sends PUT /os-services/{uuid};
//   `--up/--down` need 2.11.
// - `hypervisor list` is GET /os-hypervisors/detail (policy …:list-detail).
//   `hypervisor show` also lists /os-aggregates (for the host's aggregates).
// - `server group create --rule` needs 2.64.
// - `server migrate --live-migration` (novaclient) sends the configured
//   microversion; `--host` needs 2.30 (refused client-side below), and OSC
//   never sends `force`, so a given host is checked by the scheduler.
//   `block_migration` is `auto` from 2.25 unless --block-migration (true) or
//   --shared-migration (false) is given. `--wait` polls `server show` every
//   5 s until ACTIVE, so it never returns for a PAUSED server.
// - `server migration show/abort/force complete <server> <id>` call
//   GET/DELETE /servers/{id}/migrations/{id} and POST .../action
//   {"force_complete": null}; `show` needs 2.23, abort 2.24, force 2.22.
// - `server evacuate [--host h] [--password p] [--wait]` (novaclient; --host
//   needs 2.29). OSC 6.0.0 then crashes printing the result
//   (`'TupleWithMeta' object has no attribute 'to_dict'`, exit 1) after the
//   request succeeded; that happens against Nova as well, so the tests
//   check the request it sent and the server, not the exit status.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { clientsOrSkip } from './helpers/service.mjs';
import { ADMIN, DEMO, computeCalls, startMovesSession } from './helpers/moves-session.mjs';

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

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const admin = { cloud: ADMIN };
const COMPUTE_HOSTS = ['compute1', 'compute2', 'compute3'];
const ZONES = { compute1: 'nova', compute2: 'nova', compute3: 'az2' };
/** The hosts of the shared_storage group (helpers/moves-session.mjs MOVES_HOSTS). */
const SHARED = ['compute1', 'compute2'];
/** The other host of the shared_storage group. */
const peerOf = (host) => (host === 'compute1' ? 'compute2' : 'compute1');
/**
 * Seconds without a heartbeat before a compute service is down. Services
 * heartbeat every 10 s (REPORT_INTERVAL_MS, real clock), and every reader
 * of service state lets a due beat happen first, so 11 s never shows a live
 * service down and shows a switched-off host down within 1–11 s.
 */
const SERVICE_DOWN_TIME = 11;
/** Virt step length of the second cloud, slow enough for a CLI call to catch a live migration while it runs (five rounds). */
const SLOW_STEP_MS = 1500;

/**
 * The second cloud (slow virt steps) with two servers booted, started in
 * the background by the first describe block so that it boots while the
 * fast scenarios run; awaited and stopped by the second block (or, if that
 * never ran, when the file ends).
 */
let slowCloud = null;
function startSlowCloud() {
  slowCloud ??= (async () => {
    const slow = await startMovesSession({ config: { compute: { step_ms: SLOW_STEP_MS } } });
    try {
      const [a, b] = await Promise.all([slow.boot('lm-abort', { flavor: 'm1.tiny' }), slow.boot('lm-force', { flavor: 'm1.tiny' })]);
      return { slow, abortId: a.id, forceId: b.id };
    } catch (err) {
      await slow.stop();
      throw err;
    }
  })();
  // A failure is reported by the block that awaits it.
  slowCloud.catch(() => undefined);
  return slowCloud;
}
after(async () => {
  const started = await slowCloud?.catch(() => null);
  await started?.slow.stop();
});

/** The os-migrateLive requests in a `--debug` run: [version, body, status]. */
const liveMigrateCalls = (r) =>
  computeCalls(r.stderr)
    .filter((c) => c.method === 'POST' && c.body !== null && typeof c.body === 'object' && 'os-migrateLive' in c.body)
    .map((c) => [c.version, c.body, c.status]);

/** The seeded flavors the scenarios use. */
const FLAVORS = {
  'm1.nano': { id: '42', vcpus: 1, ram: 128, disk: 1 },
  'm1.tiny': { id: '1', vcpus: 1, ram: 512, disk: 1 },
  'm1.small': { id: '2', vcpus: 1, ram: 2048, disk: 20 },
  'm1.medium': { id: '3', vcpus: 2, ram: 4096, disk: 40 },
};

describe('moving servers between hosts with the openstack CLI', { skip: skip || clientProblem !== null }, () => {
  /** The session (helpers/moves-session.mjs). */
  let s;
  /** The id of the server every move scenario works on. */
  let S;
  /** The moves S went through, oldest first: { type, status, source, dest, oldFlavor, newFlavor }. */
  const moves = [];
  /** What the field-value tests check, captured by the tests that produce it. */
  const seen = {};

  before(async () => {
    startSlowCloud();
    s = await startMovesSession({ config: { compute: { service_down_time: SERVICE_DOWN_TIME } } });
    S = (await s.boot('mover', { flavor: 'm1.tiny' })).id;
  });
  after(async () => {
    if (s) {
      const status = await s.stop();
      assert.equal(status.code, 0, `the service should exit 0 on SIGTERM, got ${JSON.stringify(status)}`);
    }
  });

  const hostOf = (server) => server['OS-EXT-SRV-ATTR:host'];
  const flavorName = (server) => server.flavor.original_name;
  const assertStable = (server, status, vmState) => {
    assert.equal(server.status, status);
    assert.equal(server['OS-EXT-STS:vm_state'], vmState);
    assert.equal(server['OS-EXT-STS:task_state'], null);
  };
  /** S's host, through the API. */
  const hostOfS = async () => hostOf((await s.api('GET', `/servers/${S}`)).server);
  /** Usage per host from os-hypervisors at 2.87 (admin API). */
  const usage = async () => {
    const hv = (await s.api('GET', '/os-hypervisors/detail', { version: '2.87' })).hypervisors;
    return Object.fromEntries(hv.map((h) => [h.service.host, { vcpus: h.vcpus_used, ram: h.memory_mb_used }]));
  };
  const held = (flavor) => ({ vcpus: FLAVORS[flavor].vcpus, ram: FLAVORS[flavor].ram });

  it('compute service list, --host --service --long, at 2.1; members are refused', async () => {
    const [all, one, v21] = await Promise.all([
      s.json(['compute', 'service', 'list'], admin),
      s.json(['compute', 'service', 'list', '--host', 'compute2', '--service', 'nova-compute', '--long'], admin),
      s.json(['compute', 'service', 'list', '--service', 'nova-compute'], { ...admin, version: '2.1' }),
    ]);
    assert.deepEqual(
      all.filter((r) => r.Binary === 'nova-compute').map((r) => [r.Host, r.Zone, r.Status, r.State]),
      COMPUTE_HOSTS.map((h) => [h, ZONES[h], 'enabled', 'up']),
    );
    for (const r of all) {
      assert.match(r.ID, UUID, 'from 2.53 the service id is a uuid');
      assert.match(r['Updated At'], /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000000$/);
    }
    const internal = all.filter((r) => r.Binary !== 'nova-compute');
    assert.deepEqual(internal.map((r) => r.Binary).sort(), ['nova-conductor', 'nova-scheduler']);
    for (const r of internal) assert.equal(r.Zone, 'internal');

    assert.deepEqual(
      one.map((r) => [r.Binary, r.Host, r.Status, r.State, r['Disabled Reason'], r['Forced Down']]),
      [['nova-compute', 'compute2', 'enabled', 'up', null, false]],
    );
    // Below 2.53 the ids are integers.
    assert.deepEqual(v21.map((r) => r.Host), COMPUTE_HOSTS);
    for (const r of v21) assert.equal(typeof r.ID, 'number', `integer id below 2.53: ${JSON.stringify(r)}`);

    await s.fails(['compute', 'service', 'list'], /403: Client Error .*Policy doesn't allow os_compute_api:os-services:list to be performed\./);
    await s.assertLedger();
  });

  it('hypervisor list, --long at 2.87 and at the default (2.88+), --matching', async () => {
    const [list, long87, longDefault, matching] = await Promise.all([
      s.json(['hypervisor', 'list'], admin),
      s.json(['hypervisor', 'list', '--long'], { ...admin, version: '2.87' }),
      s.json(['hypervisor', 'list', '--long'], admin),
      s.json(['hypervisor', 'list', '--matching', 'compute3'], admin),
    ]);
    assert.deepEqual(
      list.map((h) => [h['Hypervisor Hostname'], h['Hypervisor Type'], h.State]),
      COMPUTE_HOSTS.map((h) => [h, 'fake', 'up']),
    );
    for (const h of list) {
      assert.match(h.ID, UUID, 'from 2.53 the hypervisor id is a uuid');
      assert.match(h['Host IP'], /^\d+\.\d+\.\d+\.\d+$/);
    }
    seen.hostIps = Object.fromEntries(list.map((h) => [h['Hypervisor Hostname'], h['Host IP']]));

    // 2.87: capacity (16 vCPUs, 64 GiB by default) and usage: S (m1.tiny) only.
    const used = await s.assertLedger();
    assert.deepEqual(
      long87.map((h) => [h['Hypervisor Hostname'], h.vCPUs, h['Memory MB'], h['vCPUs Used'], h['Memory MB Used']]),
      COMPUTE_HOSTS.map((h) => [h, 16, 65536, used[h].vcpus_used, used[h].memory_mb_used]),
    );
    assert.equal(long87.reduce((n, h) => n + h['Memory MB Used'], 0), FLAVORS['m1.tiny'].ram);
    // 2.88 drops the usage fields: the CLI prints those columns empty.
    for (const h of longDefault) assert.deepEqual([h.vCPUs, h['Memory MB'], h['vCPUs Used'], h['Memory MB Used']], ['', '', '', '']);

    assert.deepEqual(matching.map((h) => h['Hypervisor Hostname']), ['compute3']);

    await s.fails(['hypervisor', 'list'], /Policy doesn't allow os_compute_api:os-hypervisors:list-detail to be performed\. \(HTTP 403\)/);
  });

  it('hypervisor show: the fields at 2.87 and from 2.88 (API)', async () => {
    const hv = (await s.api('GET', '/os-hypervisors?hypervisor_hostname_pattern=compute1', { version: '2.53' })).hypervisors;
    assert.equal(hv.length, 1);
    const id = hv[0].id;
    const v87 = (await s.api('GET', `/os-hypervisors/${id}`, { version: '2.87' })).hypervisor;
    assert.equal(v87.hypervisor_hostname, 'compute1');
    assert.equal(v87.service.host, 'compute1');
    for (const k of ['vcpus', 'memory_mb', 'local_gb', 'vcpus_used', 'memory_mb_used', 'local_gb_used', 'free_ram_mb', 'free_disk_gb', 'current_workload', 'running_vms', 'disk_available_least', 'cpu_info']) {
      assert.ok(k in v87, `2.87 shows ${k}: ${JSON.stringify(v87)}`);
    }
    assert.ok(!('uptime' in v87));
    const v88 = (await s.api('GET', `/os-hypervisors/${id}`, { version: '2.88' })).hypervisor;
    assert.match(v88.uptime, /up .* load average/);
    for (const k of ['vcpus', 'memory_mb', 'vcpus_used', 'memory_mb_used', 'running_vms', 'cpu_info']) assert.ok(!(k in v88), `2.88 drops ${k}`);
    // GET /os-hypervisors/{id}/uptime is gone from 2.88.
    await s.api('GET', `/os-hypervisors/${id}/uptime`, { version: '2.88', status: 404 });
  });

  it('openstack hypervisor show compute1 (default 2.92, 2.87)', async () => {
    const dflt = await s.json(['hypervisor', 'show', 'compute1'], admin);
    assert.equal(dflt.hypervisor_hostname, 'compute1');
    assert.equal(dflt.service_host, 'compute1');
    assert.deepEqual(dflt.aggregates, []);
    assert.ok(dflt.uptime, 'uptime from the 2.88 body');
    assert.ok(!('vcpus_used' in dflt));
    const v87 = await s.json(['hypervisor', 'show', 'compute1'], { ...admin, version: '2.87' });
    assert.equal(v87.vcpus, 16);
    assert.ok(v87.host_time, 'the os-hypervisors/{id}/uptime line parsed into host_time');
  });

  it('server resize --flavor m1.small --wait, then server resize confirm', async () => {
    const source = await hostOfS();
    const r = await s.ok(['server', 'resize', '--flavor', 'm1.small', '--wait', S]);
    assert.match(r.stdout, /Complete/);
    const [resized, pending] = await Promise.all([s.show(S), s.json(['server', 'migration', 'list', '--server', S, '--status', 'finished'], admin)]);
    assertStable(resized, 'VERIFY_RESIZE', 'resized');
    assert.equal(flavorName(resized), 'm1.small');
    const dest = hostOf(resized);
    assert.ok(COMPUTE_HOSTS.includes(dest) && dest !== source, `resized to another host: ${source} -> ${dest}`);
    assert.equal(resized['OS-EXT-SRV-ATTR:hypervisor_hostname'], dest);
    assert.deepEqual(pending.map((m) => [m.Type, m['Source Compute'], m['Dest Compute']]), [['resize', source, dest]]);
    // Until it is confirmed, the source still holds the old flavor and the destination the new one.
    const u = await usage();
    assert.deepEqual([u[source], u[dest]], [held('m1.tiny'), held('m1.small')]);

    await s.ok(['server', 'resize', 'confirm', S]);
    const confirmed = await s.waitStatus(S, 'ACTIVE');
    assertStable(confirmed, 'ACTIVE', 'active');
    assert.equal(hostOf(confirmed), dest);
    assert.equal(flavorName(confirmed), 'm1.small');
    moves.push({ type: 'resize', status: 'confirmed', source, dest, oldFlavor: 'm1.tiny', newFlavor: 'm1.small' });

    // Nothing left to confirm.
    await s.fails(['server', 'resize', 'confirm', S], new RegExp(`Cannot 'confirmResize' instance ${S} while it is in vm_state active \\(HTTP 409\\)`));
    await s.assertLedger();
  });

  it('server resize --flavor m1.medium --wait, then server resize revert: back to the old flavor and host', async () => {
    const source = await hostOfS();
    const r = await s.ok(['server', 'resize', '--flavor', 'm1.medium', '--wait', S]);
    assert.match(r.stdout, /Complete/);
    const resized = await s.show(S);
    assertStable(resized, 'VERIFY_RESIZE', 'resized');
    assert.equal(flavorName(resized), 'm1.medium');
    const dest = hostOf(resized);
    assert.notEqual(dest, source);

    await s.ok(['server', 'resize', 'revert', S]);
    const reverted = await s.waitStatus(S, 'ACTIVE');
    assertStable(reverted, 'ACTIVE', 'active');
    assert.equal(hostOf(reverted), source);
    assert.equal(flavorName(reverted), 'm1.small');
    const f = FLAVORS['m1.small'];
    assert.deepEqual([reverted.flavor.vcpus, reverted.flavor.ram, reverted.flavor.disk], [f.vcpus, f.ram, f.disk]);
    moves.push({ type: 'resize', status: 'reverted', source, dest, oldFlavor: 'm1.small', newFlavor: 'm1.medium' });

    const [v246] = await Promise.all([
      // Below 2.47 the flavor is shown by name and id.
      s.show(S, { version: '2.46' }),
      s.fails(['server', 'resize', '--flavor', 'm1.small', S], /When resizing, instances must change flavor! \(HTTP 400\)/),
    ]);
    assert.equal(v246.flavor, `m1.small (${f.id})`);
    await s.assertLedger();
  });

  it('server migrate --wait (cold), server migration confirm; members may not migrate', async () => {
    await s.fails(['server', 'migrate', S], /Policy doesn't allow os_compute_api:os-migrate-server:migrate to be performed\. \(HTTP 403\)/);

    const source = await hostOfS();
    const r = await s.ok(['server', 'migrate', '--wait', S], admin);
    assert.match(r.stdout, /Complete/);
    const migrated = await s.show(S);
    assertStable(migrated, 'VERIFY_RESIZE', 'resized');
    assert.equal(flavorName(migrated), 'm1.small', 'a migration keeps the flavor');
    const dest = hostOf(migrated);
    assert.notEqual(dest, source);

    await s.ok(['server', 'migration', 'confirm', S]);
    const confirmed = await s.waitStatus(S, 'ACTIVE');
    assertStable(confirmed, 'ACTIVE', 'active');
    assert.equal(hostOf(confirmed), dest);
    moves.push({ type: 'migration', status: 'confirmed', source, dest, oldFlavor: 'm1.small', newFlavor: 'm1.small' });
    await s.assertLedger();
  });

  it('server migrate --host compute3 --wait (2.56) + server resize confirm', async () => {
    const v256 = { ...admin, version: '2.56' };
    const source = await hostOfS();
    assert.notEqual(source, 'compute3', 'S should not be on compute3 yet (the earlier moves put it elsewhere)');

    const [, own] = await Promise.all([
      s.fails(['server', 'migrate', '--host', 'nosuch', S], /Compute host nosuch could not be found\. \(HTTP 400\)/, v256),
      // Nova's wording is checked by a test below.
      s.fails(['server', 'migrate', '--host', source, S], /\(HTTP 400\)/, v256),
    ]);
    seen.ownHostError = own.stderr;

    const r = await s.ok(['server', 'migrate', '--host', 'compute3', '--wait', S], v256);
    assert.match(r.stdout, /Complete/);
    const migrated = await s.show(S);
    assertStable(migrated, 'VERIFY_RESIZE', 'resized');
    assert.equal(hostOf(migrated), 'compute3');

    await s.ok(['server', 'resize', 'confirm', S]);
    const confirmed = await s.waitStatus(S, 'ACTIVE');
    assertStable(confirmed, 'ACTIVE', 'active');
    assert.equal(hostOf(confirmed), 'compute3');
    assert.equal(flavorName(confirmed), 'm1.small');
    seen.onCompute3 = confirmed;
    moves.push({ type: 'migration', status: 'confirmed', source, dest: 'compute3', oldFlavor: 'm1.small', newFlavor: 'm1.small' });
    await s.assertLedger();
  });

  it('an unpinned server migrated to compute3 shows the zone of its new host (az2)', () => {
    assert.ok(seen.onCompute3, 'the migrate --host test ran');
    assert.equal(seen.onCompute3['OS-EXT-AZ:availability_zone'], 'az2');
  });

  it("server migrate --host <its own host>: Nova's message", () => {
    assert.match(seen.ownHostError ?? '', /Cannot migrate to the host where the server exists\. \(HTTP 400\)/);
  });

  it('server migration list: every move of S, newest first, with the filters OSC offers', async () => {
    assert.equal(moves.length, 4, 'the four moves above ran');
    const [all, byServer, reverted, resizes, colds, v21, v280, owner] = await Promise.all([
      s.json(['server', 'migration', 'list'], admin),
      s.json(['server', 'migration', 'list', '--server', S], admin),
      s.json(['server', 'migration', 'list', '--status', 'reverted'], admin),
      s.json(['server', 'migration', 'list', '--type', 'resize'], admin),
      s.json(['server', 'migration', 'list', '--type', 'cold-migration'], admin),
      s.json(['server', 'migration', 'list'], { ...admin, version: '2.1' }),
      s.json(['server', 'migration', 'list', '--project', 'demo', '--user', 'demo'], { ...admin, version: '2.80' }),
      s.api('GET', `/servers/${S}`),
    ]);
    const expected = [...moves].reverse();
    const rows = (list) => list.map((m) => [m.Type, m.Status, m['Source Compute'], m['Dest Compute'], String(m['Old Flavor']), String(m['New Flavor'])]);
    const want = (list) => list.map((m) => [m.type, m.status, m.source, m.dest, FLAVORS[m.oldFlavor].id, FLAVORS[m.newFlavor].id]);
    assert.deepEqual(rows(all), want(expected));
    for (const m of all) {
      assert.equal(m['Server UUID'], S);
      assert.equal(typeof m.Id, 'number');
      assert.match(m.UUID, UUID);
      assert.equal(m['Source Node'], m['Source Compute']);
      assert.equal(m['Dest Node'], m['Dest Compute']);
      assert.ok(m['Created At'] <= m['Updated At'], `created ${m['Created At']} after updated ${m['Updated At']}`);
    }
    assert.deepEqual(all.map((m) => m.Id), [...all.map((m) => m.Id)].sort((a, b) => b - a), 'newest first');
    seen.migrations = all;
    assert.deepEqual(byServer, all);
    assert.deepEqual(rows(reverted), want(expected.filter((m) => m.status === 'reverted')));
    assert.deepEqual(rows(resizes), want(expected.filter((m) => m.type === 'resize')));
    assert.deepEqual(rows(colds), want(expected.filter((m) => m.type === 'migration')));

    // 2.1: no Id, UUID or Type columns.
    assert.equal(v21.length, 4);
    for (const m of v21) for (const k of ['Id', 'UUID', 'Type']) assert.ok(!(k in m), `${k} shown at 2.1: ${JSON.stringify(m)}`);
    // 2.80: the project and user of each migration (S's owner).
    assert.deepEqual(v280.map((m) => [m.Project, m.User]), v280.map(() => [owner.server.tenant_id, owner.server.user_id]));
    assert.equal(v280.length, 4);

    await s.fails(['server', 'migration', 'list'], /Policy doesn't allow os_compute_api:os-migrations:index to be performed\. \(HTTP 403\)/);
  });

  it("server migration list: Nova's field values (dest_host is the destination's IP, flavor ids are integers)", () => {
    assert.ok(seen.migrations && seen.hostIps, 'the migration list and hypervisor list tests ran');
    for (const m of seen.migrations) {
      assert.equal(m['Dest Host'], seen.hostIps[m['Dest Compute']], `dest_host of migration ${m.Id}`);
      assert.equal(typeof m['Old Flavor'], 'number', `old_instance_type_id of migration ${m.Id}`);
      assert.equal(typeof m['New Flavor'], 'number', `new_instance_type_id of migration ${m.Id}`);
    }
  });

  it('compute service set --disable --disable-reason: nothing new lands on compute2; --enable', async () => {
    const before = (await s.api('GET', '/servers/detail?all_tenants=1')).servers.map((x) => [x.name, hostOf(x)]);
    assert.ok(!before.some(([, h]) => h === 'compute2'), `compute2 should be empty here: ${JSON.stringify(before)}`);

    // A member cannot even look the service up.
    await s.fails(['compute', 'service', 'set', '--disable', 'compute2', 'nova-compute'], /403: Client Error .*Policy doesn't allow os_compute_api:os-services:list to be performed\./);

    await s.ok(['compute', 'service', 'set', '--disable', '--disable-reason', 'maint', 'compute2', 'nova-compute'], admin);
    const [svc] = await s.json(['compute', 'service', 'list', '--host', 'compute2', '--long'], admin);
    assert.deepEqual([svc.Binary, svc.Status, svc.State, svc['Disabled Reason'], svc['Forced Down']], ['nova-compute', 'disabled', 'up', 'maint', false]);

    // compute2 is the emptiest host, so the scheduler would pick it if it could.
    await s.boot('dis', { count: 2 });
    const during = await s.placement();
    for (const n of ['dis-1', 'dis-2']) {
      assert.ok(during.get(n), `${n} is listed`);
      assert.notEqual(during.get(n).host, 'compute2', `${n} landed on the disabled compute2`);
    }

    await s.ok(['compute', 'service', 'set', '--enable', 'compute2', 'nova-compute'], admin);
    const [enabled] = await s.json(['compute', 'service', 'list', '--host', 'compute2', '--long'], admin);
    assert.deepEqual([enabled.Status, enabled['Disabled Reason']], ['enabled', null]);
    await s.boot('en-1');
    const after = await s.placement();
    assert.equal(after.get('en-1')?.host, 'compute2', 'once enabled, the emptiest host is chosen again');
    assert.equal(after.get('en-1')?.hostStatus, 'UP');
    await s.assertLedger();
  });

  it('compute service set --down: State down, host_status DOWN (2.16+, admin), no scheduling there; --up', async () => {
    assert.equal(await hostOfS(), 'compute3', 'S is on compute3 (migrated there above)');

    await s.ok(['compute', 'service', 'set', '--down', 'compute3', 'nova-compute'], admin);
    const [services, adminView, v215, memberView, hypervisors] = await Promise.all([
      s.json(['compute', 'service', 'list', '--service', 'nova-compute', '--long'], admin),
      s.show(S, { version: '2.16' }),
      s.show(S, { version: '2.15' }),
      s.show(S, { cloud: DEMO }),
      s.json(['hypervisor', 'list'], admin),
    ]);
    assert.deepEqual(
      services.map((r) => [r.Host, r.Status, r.State, r['Forced Down']]),
      [['compute1', 'enabled', 'up', false], ['compute2', 'enabled', 'up', false], ['compute3', 'enabled', 'down', true]],
    );
    assert.equal(adminView.host_status, 'DOWN');
    assert.equal(adminView.status, 'ACTIVE', 'the server itself is untouched');
    assert.ok(!('host_status' in v215), 'no host_status below 2.16');
    assert.ok(!('host_status' in memberView), 'host_status is for admins only');
    assert.deepEqual(hypervisors.map((h) => [h['Hypervisor Hostname'], h.State]), [['compute1', 'up'], ['compute2', 'up'], ['compute3', 'down']]);

    // compute3 is az2's only host: a server asking for az2 finds no valid host.
    const failed = await s.boot('az2-down', { args: ['--availability-zone', 'az2'], expect: 'ERROR' });
    assert.equal(hostOf(failed), null);
    const shownFailed = await s.show(failed.id, { cloud: DEMO });
    assert.match(shownFailed.fault?.message ?? '', /^No valid host was found/, JSON.stringify(shownFailed.fault));
    await s.ok(['server', 'delete', failed.id]);

    await s.ok(['compute', 'service', 'set', '--up', 'compute3', 'nova-compute'], admin);
    const [up] = await s.json(['compute', 'service', 'list', '--host', 'compute3', '--long'], admin);
    assert.deepEqual([up.State, up['Forced Down']], ['up', false]);
    await s.boot('az2-up', { args: ['--availability-zone', 'az2'] });
    const placed = await s.placement();
    assert.deepEqual([placed.get('az2-up')?.host, placed.get('az2-up')?.zone], ['compute3', 'az2']);
    assert.equal(placed.get('mover')?.hostStatus, 'UP');
    assert.ok(!placed.has('az2-down'), 'the failed server was deleted');
    await s.assertLedger();
  });

  it('server group create --policy affinity / anti-affinity / --rule (2.64), list, show; --hint group places the members', async () => {
    const [g1, g2, g3] = await Promise.all([
      s.json(['server', 'group', 'create', '--policy', 'affinity', 'g1']),
      s.json(['server', 'group', 'create', '--policy', 'anti-affinity', 'g2']),
      s.json(['server', 'group', 'create', '--policy', 'anti-affinity', '--rule', 'max_server_per_host=2', 'g3']),
      s.fails(['server', 'group', 'create', '--policy', 'affinity', '--rule', 'max_server_per_host=2', 'g4'], /400: Client Error .*Only anti-affinity policy supports rules\./),
    ]);
    assert.deepEqual([g1.name, g1.policy, g1.rules, g1.members], ['g1', 'affinity', {}, []]);
    assert.deepEqual([g2.name, g2.policy, g2.rules, g2.members], ['g2', 'anti-affinity', {}, []]);
    assert.deepEqual([g3.name, g3.policy, g3.rules], ['g3', 'anti-affinity', { max_server_per_host: 2 }]);
    for (const g of [g1, g2, g3]) assert.match(g.id, UUID);

    const [long, v21] = await Promise.all([
      s.json(['server', 'group', 'list', '--long']),
      s.json(['server', 'group', 'show', g1.id], { version: '2.1' }),
    ]);
    assert.deepEqual(long.map((g) => [g.ID, g.Name, g.Policy]).sort(), [g1, g2, g3].map((g) => [g.id, g.name, g.policy]).sort());
    for (const g of long) assert.deepEqual([g.Members, g['Project Id'], g['User Id']], [[], g1.project_id, g1.user_id]);
    assert.deepEqual(v21.policies, ['affinity'], 'below 2.64 the policy is a list');

    // Two members per group, in one request each (--min 2 --max 2).
    const [[aff1, aff2], [anti1, anti2]] = await Promise.all([
      s.boot('aff', { count: 2, hints: [`group=${g1.id}`] }),
      s.boot('anti', { count: 2, hints: [`group=${g2.id}`] }),
    ]);
    const placed = await s.placement();
    const host = (n) => placed.get(n)?.host;
    assert.ok(host('aff-1'), 'aff-1 has a host');
    assert.equal(host('aff-2'), host('aff-1'), 'the affinity pair shares a host');
    assert.ok(host('anti-1') && host('anti-2'), 'the anti-affinity pair has hosts');
    assert.notEqual(host('anti-2'), host('anti-1'), 'the anti-affinity pair does not');
    for (const [srv, g] of [[aff1, g1], [aff2, g1], [anti1, g2], [anti2, g2]]) assert.deepEqual(srv.server_groups, [g.id], `server_groups of ${srv.name}`);

    const shown1 = await s.json(['server', 'group', 'show', 'g1']);
    assert.deepEqual([...shown1.members].sort(), [aff1.id, aff2.id].sort());

    // Three hosts: a third anti-affinity member fits, a fourth does not.
    const anti3 = await s.boot('anti-3', { hints: [`group=${g2.id}`] });
    assert.deepEqual(new Set([host('anti-1'), host('anti-2'), hostOf(anti3)]), new Set(COMPUTE_HOSTS));
    const anti4 = await s.boot('anti-4', { hints: [`group=${g2.id}`], expect: 'ERROR' });
    const shown4 = await s.show(anti4.id);
    assert.deepEqual([shown4.status, hostOf(shown4)], ['ERROR', null]);
    assert.match(shown4.fault?.message ?? '', /^No valid host was found/, JSON.stringify(shown4.fault));
    await s.assertLedger();
  });

  // Live migration and evacuation. S is on compute3 (local storage) here.

  it('server migrate --live-migration --wait (default 2.92): the scheduler picks a host, block migration from compute3; members may not', async () => {
    const source = await hostOfS();
    assert.equal(source, 'compute3', 'S is on compute3 (migrated there above)');
    const [, r] = await Promise.all([
      s.fails(['server', 'migrate', '--live-migration', S], /Policy doesn't allow os_compute_api:os-migrate-server:migrate_live to be performed\. \(HTTP 403\)/),
      s.ok(['--debug', 'server', 'migrate', '--live-migration', '--wait', S], admin),
    ]);
    assert.match(r.stdout, /Complete/);
    // The configured microversion, no host, block_migration decided by the cloud.
    assert.deepEqual(liveMigrateCalls(r), [['2.92', { 'os-migrateLive': { host: null, block_migration: 'auto' } }, 202]]);

    const migrated = await s.waitStatus(S, 'ACTIVE');
    assertStable(migrated, 'ACTIVE', 'active');
    const dest = hostOf(migrated);
    assert.ok(SHARED.includes(dest), `live-migrated to a host of zone nova: ${dest}`);
    assert.equal(migrated['OS-EXT-SRV-ATTR:hypervisor_hostname'], dest);
    assert.equal(migrated['OS-EXT-AZ:availability_zone'], 'nova', "the server's zone follows its host");
    assert.equal(flavorName(migrated), 'm1.small', 'a live migration keeps the flavor');
    const [m] = await s.json(['server', 'migration', 'list', '--server', S, '--type', 'live-migration'], admin);
    assert.deepEqual([m.Type, m.Status, m['Source Compute'], m['Dest Compute']], ['live-migration', 'completed', source, dest]);
    moves.push({ type: 'live-migration', status: 'completed', source, dest });
    await s.assertLedger();
  });

  it('a block migration between hosts sharing storage fails the pre-checks: 400 at 2.30; from 2.34 the server stays ACTIVE and the instance action shows the failure', async () => {
    const source = await hostOfS();
    const other = peerOf(source);
    assert.ok(SHARED.includes(source));

    // Below 2.34 the call waits for the pre-checks. OSC sends no `force`, so
    // the scheduler checks the requested host, which fails, and no other
    // host may be tried.
    const sync = await s.fails(
      ['--debug', 'server', 'migrate', '--live-migration', '--host', other, '--block-migration', S],
      /No valid host was found\. There are not enough hosts available\. \(HTTP 400\)/,
      { ...admin, version: '2.30' },
    );
    assert.deepEqual(liveMigrateCalls(sync), [['2.30', { 'os-migrateLive': { host: other, block_migration: true } }, 400]]);
    assertStable(await s.show(S), 'ACTIVE', 'active');
    assert.equal(await hostOfS(), source);
    moves.push({ type: 'live-migration', status: 'error', source, dest: null });

    // From 2.34 the API answers 202 before the pre-checks run.
    const r = await s.ok(['--debug', 'server', 'migrate', '--live-migration', '--host', other, '--block-migration', S], admin);
    const [post] = computeCalls(r.stderr).filter((c) => c.method === 'POST');
    assert.deepEqual([post?.version, post?.body, post?.status], ['2.92', { 'os-migrateLive': { host: other, block_migration: true } }, 202]);
    assert.match(post.requestId ?? '', /^req-/);
    const after = await s.waitServer(S, (x) => x['OS-EXT-STS:task_state'] === null, { what: 'the end of the pre-checks' });
    assertStable(after, 'ACTIVE', 'active');
    assert.equal(hostOf(after), source, 'the server stays on its host');
    moves.push({ type: 'live-migration', status: 'error', source, dest: null });

    const [events, action, [m]] = await Promise.all([
      s.json(['server', 'event', 'list', '--long', S], admin),
      s.json(['server', 'event', 'show', S, post.requestId], admin),
      s.json(['server', 'migration', 'list', '--server', S, '--type', 'live-migration'], admin),
    ]);
    assert.deepEqual([events[0]?.['Request ID'], events[0]?.Action, events[0]?.Message], [post.requestId, 'live-migration', 'Error'], JSON.stringify(events[0]));
    assert.deepEqual([action.action, action.message, action.request_id], ['live-migration', 'Error', post.requestId]);
    const byName = Object.fromEntries(action.events.map((e) => [e.event, e]));
    const conductor = byName.conductor_live_migrate_instance;
    assert.equal(conductor?.result, 'Error', JSON.stringify(action.events));
    assert.match(conductor.details ?? '', /^No valid host was found/);
    const sourceCheck = byName.compute_check_can_live_migrate_source;
    assert.deepEqual([sourceCheck?.result, sourceCheck?.host], ['Error', source], JSON.stringify(action.events));
    assert.match(sourceCheck.details ?? '', new RegExp(`^${source} is not on local storage: Block migration can not be used with shared storage\\.`));
    const destCheck = byName.compute_check_can_live_migrate_destination;
    assert.deepEqual([destCheck?.result, destCheck?.host], ['Error', other]);
    seen.destCheck = { source, other, details: destCheck.details };
    assert.deepEqual([m.Status, m['Source Compute'], m['Dest Compute']], ['error', source, null]);
    await s.assertLedger();
  });

  it(
    "the destination's pre-check event names the source's failure as Nova's MigrationPreCheckError does",
    () => {
      assert.ok(seen.destCheck, 'the block migration test ran');
      const { source, other, details } = seen.destCheck;
      assert.match(
        details ?? '',
        new RegExp(`^Migration pre-check error: Error while check_can_live_migrate_source from ${source} to host ${other}: InvalidLocalStorage\\S* ${source} is not on local storage: Block migration can not be used with shared storage\\.`),
      );
    },
  );

  it('server migrate --live-migration --host: --wait at the default version, 2.68, 2.25 --block-migration; --host needs 2.30', async () => {
    const first = await hostOfS();
    const other = peerOf(first);
    await s.fails(['server', 'migrate', '--live-migration', '--host', other, S], /--os-compute-api-version 2\.30 or greater is required when using --host/, { ...admin, version: '2.25' });

    // compute1 <-> compute2 share storage: `auto` makes it a shared migration.
    const r = await s.ok(['--debug', 'server', 'migrate', '--live-migration', '--host', other, '--wait', S], admin);
    assert.match(r.stdout, /Complete/);
    assert.deepEqual(liveMigrateCalls(r), [['2.92', { 'os-migrateLive': { host: other, block_migration: 'auto' } }, 202]]);
    assert.equal(hostOf(await s.waitStatus(S, 'ACTIVE')), other);
    moves.push({ type: 'live-migration', status: 'completed', source: first, dest: other });

    // 2.68 (no `force` in the schema any more); polled through the API.
    const v268 = await s.ok(['--debug', 'server', 'migrate', '--live-migration', '--host', first, S], { ...admin, version: '2.68' });
    assert.deepEqual(liveMigrateCalls(v268), [['2.68', { 'os-migrateLive': { host: first, block_migration: 'auto' } }, 202]]);
    const back = await s.waitServer(S, (x) => hostOf(x) === first && x['OS-EXT-STS:task_state'] === null, { what: `ACTIVE on ${first}` });
    assertStable(back, 'ACTIVE', 'active');
    moves.push({ type: 'live-migration', status: 'completed', source: other, dest: first });

    // 2.25: a block migration by the scheduler. The other shared host fails
    // the pre-checks if it is tried; compute3 (local storage) takes it. Below
    // 2.34 the call returns once the pre-checks passed.
    const v225 = await s.ok(['--debug', 'server', 'migrate', '--live-migration', '--block-migration', S], { ...admin, version: '2.25' });
    assert.deepEqual(liveMigrateCalls(v225), [['2.25', { 'os-migrateLive': { host: null, block_migration: true } }, 202]]);
    const onCompute3 = await s.waitServer(S, (x) => hostOf(x) === 'compute3' && x['OS-EXT-STS:task_state'] === null, { what: 'ACTIVE on compute3' });
    assertStable(onCompute3, 'ACTIVE', 'active');
    assert.equal(onCompute3['OS-EXT-AZ:availability_zone'], 'az2');
    moves.push({ type: 'live-migration', status: 'completed', source: first, dest: 'compute3' });
    await s.assertLedger();
  });

  it('a PAUSED server live-migrates and stays PAUSED', async () => {
    const source = hostOf(await s.waitStatus(S, 'ACTIVE'));
    await s.ok(['server', 'pause', S]);
    await s.waitStatus(S, 'PAUSED');
    // No --wait: OSC waits for ACTIVE, which a paused server never becomes.
    await s.ok(['server', 'migrate', '--live-migration', S], admin);
    const migrated = await s.waitServer(S, (x) => hostOf(x) !== source && x['OS-EXT-STS:task_state'] === null, { what: 'PAUSED on another host' });
    assertStable(migrated, 'PAUSED', 'paused');
    assert.equal(migrated['OS-EXT-STS:power_state'], 3, 'power_state 3 (paused)');
    const dest = hostOf(migrated);
    assert.ok(SHARED.includes(dest));
    moves.push({ type: 'live-migration', status: 'completed', source, dest });
    await s.assertLedger();

    await s.ok(['server', 'unpause', S]);
    assertStable(await s.waitStatus(S, 'ACTIVE'), 'ACTIVE', 'active');
  });

  it('server evacuate: refused while the host is up; compute service set --down, evacuate --host --password; --up and the old host cleans up', async () => {
    const source = await hostOfS();
    assert.ok(SHARED.includes(source));
    await Promise.all([
      s.fails(['server', 'evacuate', S], new RegExp(`Compute service of ${source} is still in use\\. \\(HTTP 400\\)`), admin),
      s.fails(['server', 'evacuate', S], /Policy doesn't allow os_compute_api:os-evacuate to be performed\. \(HTTP 403\)/),
    ]);
    const before = await usage();

    await s.ok(['compute', 'service', 'set', '--down', source, 'nova-compute'], admin);
    // OSC 6.0.0 sends the request, then fails printing the result (see the top of the file).
    const r = await s.run(['--debug', 'server', 'evacuate', '--host', 'compute3', '--password', 'Evacuated-1', S], admin);
    const calls = computeCalls(r.stderr).filter((c) => c.method === 'POST');
    assert.deepEqual(
      calls.map((c) => [c.version, c.body, c.status]),
      [['2.92', { evacuate: { host: 'compute3', adminPass: 'Evacuated-1' } }, 200]],
      r.stderr.split('\n').slice(-5).join('\n'),
    );
    if (r.code !== 0) assert.match(r.stderr, /'TupleWithMeta' object has no attribute 'to_dict'/, 'the only failure is OSC 6.0 printing the result');

    const evacuated = await s.waitServer(S, (x) => hostOf(x) === 'compute3' && x['OS-EXT-STS:task_state'] === null, { what: 'rebuilt on compute3' });
    assertStable(evacuated, 'ACTIVE', 'active');
    assert.equal(evacuated['OS-EXT-AZ:availability_zone'], 'az2');
    const [m] = await s.json(['server', 'migration', 'list', '--server', S, '--type', 'evacuation'], admin);
    assert.deepEqual([m.Type, m.Status, m['Source Compute'], m['Dest Compute']], ['evacuation', 'done', source, 'compute3']);
    // Until the old host has cleaned up, it still holds the server's flavor.
    const held = await usage();
    assert.deepEqual(held[source], before[source], `${source} keeps S's share while the evacuation is done`);
    await s.assertLedger();

    await s.ok(['compute', 'service', 'set', '--up', source, 'nova-compute'], admin);
    // The old host's cleanup runs every 10 s (real clock) once it is up.
    await s.waitMigration(S, (x) => x.status === 'completed', { type: 'evacuation', what: 'completed', timeoutMs: 25_000 });
    const hv = await s.json(['hypervisor', 'list', '--long'], { ...admin, version: '2.87' });
    const row = hv.find((h) => h['Hypervisor Hostname'] === source);
    assert.deepEqual([row?.['vCPUs Used'], row?.['Memory MB Used']], [before[source].vcpus - FLAVORS['m1.small'].vcpus, before[source].ram - FLAVORS['m1.small'].ram]);
    const [completed] = await s.json(['server', 'migration', 'list', '--server', S, '--type', 'evacuation'], admin);
    assert.equal(completed.Status, 'completed');
    moves.push({ type: 'evacuation', status: 'completed', source, dest: 'compute3' });
    await s.assertLedger();
  });

  it('a simulated host failure (fault-injection host switch): the service goes down, server evacuate, the host comes back and cleans up', async () => {
    assert.equal(await hostOfS(), 'compute3');
    await s.hostSwitch('compute3', 'down');
    try {
      // No heartbeat any more: down within service_down_time (not forced down).
      await s.waitService('compute3', 'down', { timeoutMs: (SERVICE_DOWN_TIME + 15) * 1000 });
      const [[svc], shown] = await Promise.all([
        s.json(['compute', 'service', 'list', '--host', 'compute3', '--service', 'nova-compute', '--long'], admin),
        s.show(S),
      ]);
      assert.deepEqual([svc.Status, svc.State, svc['Forced Down']], ['enabled', 'down', false]);
      assert.equal(shown.host_status, 'UNKNOWN', 'a host that stopped reporting, not forced down');

      const r = await s.run(['--debug', 'server', 'evacuate', S], admin);
      const calls = computeCalls(r.stderr).filter((c) => c.method === 'POST');
      assert.deepEqual(calls.map((c) => [c.version, c.body, c.status]), [['2.92', { evacuate: {} }, 200]], r.stderr.split('\n').slice(-5).join('\n'));
      const evacuated = await s.waitServer(S, (x) => hostOf(x) !== 'compute3' && x['OS-EXT-STS:task_state'] === null, { what: 'rebuilt off compute3' });
      assertStable(evacuated, 'ACTIVE', 'active');
      const dest = hostOf(evacuated);
      assert.ok(SHARED.includes(dest));
      const [m] = await s.json(['server', 'migration', 'list', '--server', S, '--type', 'evacuation'], admin);
      assert.deepEqual([m.Status, m['Source Compute'], m['Dest Compute']], ['done', 'compute3', dest]);
      moves.push({ type: 'evacuation', status: 'completed', source: 'compute3', dest });
      await s.assertLedger();
    } finally {
      await s.hostSwitch('compute3', 'up');
    }
    // Back up: it heartbeats again and, restarting, removes its copy of S.
    await s.waitService('compute3', 'up');
    await s.waitMigration(S, (x) => x.status === 'completed', { type: 'evacuation', what: 'completed', timeoutMs: 25_000 });
    await s.assertLedger();
  });

  it('server migration list --type live-migration / evacuation: every such move of S, newest first', async () => {
    const [live, evacuations] = await Promise.all([
      s.json(['server', 'migration', 'list', '--server', S, '--type', 'live-migration'], admin),
      s.json(['server', 'migration', 'list', '--server', S, '--type', 'evacuation'], admin),
    ]);
    const rows = (list) => list.map((m) => [m.Type, m.Status, m['Source Compute'], m['Dest Compute']]);
    const want = (type) => moves.filter((m) => m.type === type).reverse().map((m) => [m.type, m.status, m.source, m.dest]);
    assert.deepEqual(rows(live), want('live-migration'));
    assert.deepEqual(rows(evacuations), want('evacuation'));
    for (const m of [...live, ...evacuations]) assert.equal(m['Server UUID'], S);
  });
});

describe('in-progress live migrations with the openstack CLI (virt steps of 1.5 s)', { skip: skip || clientProblem !== null }, () => {
  /** The slow cloud's session and its two servers (booted in the background, see startSlowCloud). */
  let slow;
  let abortId;
  let forceId;

  before(async () => {
    ({ slow, abortId, forceId } = await startSlowCloud());
  });
  after(async () => {
    if (slow) {
      const status = await slow.stop();
      assert.equal(status.code, 0, `the service should exit 0 on SIGTERM, got ${JSON.stringify(status)}`);
    }
  });

  const hostOf = (server) => server['OS-EXT-SRV-ATTR:host'];

  /** Polls GET /servers/{id}/migrations (2.80) until the live migration runs and has copied some memory. */
  async function waitRunning(id) {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const [m] = (await slow.api('GET', `/servers/${id}/migrations`, { version: '2.80' })).migrations;
      if (m?.status === 'running' && m.memory_processed_bytes > 0) return m;
      if (Date.now() > deadline) assert.fail(`the live migration of ${id} did not start running: ${JSON.stringify(m)}`);
      await sleep(100);
    }
  }

  /** Live-migrates the server (scheduler's choice) and returns its source and the running migration. */
  async function startLiveMigration(id) {
    const source = hostOf((await slow.api('GET', `/servers/${id}`)).server);
    await slow.ok(['server', 'migrate', '--live-migration', id], admin);
    return { source, running: await waitRunning(id) };
  }

  /** memory and disk bytes of `server migration show` for a migration of an m1.tiny server. */
  function assertProgress(shown, source, dest) {
    const total = FLAVORS['m1.tiny'].ram * MiB;
    assert.equal(shown['Memory Total Bytes'], total);
    assert.ok(shown['Memory Processed Bytes'] > 0 && shown['Memory Processed Bytes'] < total, `memory copied so far: ${shown['Memory Processed Bytes']}`);
    assert.equal(shown['Memory Processed Bytes'] + shown['Memory Remaining Bytes'], total);
    // A block migration (a host on local storage) copies the disk too; a shared one does not.
    const block = !(SHARED.includes(source) && SHARED.includes(dest));
    assert.equal(shown['Disk Total Bytes'], block ? FLAVORS['m1.tiny'].disk * GiB : 0, `disk bytes of a ${block ? 'block' : 'shared'} migration ${source} -> ${dest}`);
  }

  it('server migration show while it runs, then server migration abort: cancelled, ACTIVE on its source', async () => {
    const { source, running } = await startLiveMigration(abortId);
    const id = String(running.id);
    const shown = await slow.json(['server', 'migration', 'show', abortId, id], admin);
    assert.deepEqual(
      [shown.ID, shown['Server UUID'], shown.Status, shown['Source Compute'], shown['Dest Compute'], shown['Dest Node']],
      [running.id, abortId, 'running', source, running.dest_compute, running.dest_compute],
    );
    assert.notEqual(running.dest_compute, source);
    assert.match(shown.UUID, UUID);
    assertProgress(shown, source, running.dest_compute);
    // While it runs, the destination holds the server's flavor too.
    const { holdings } = await slow.checkLedger({ liveMigrating: true });
    assert.ok(
      holdings.some((h) => h.server === abortId && h.type === 'live-migration' && h.host === running.dest_compute),
      `the destination holds the flavor: ${JSON.stringify(holdings)}`,
    );

    await slow.ok(['server', 'migration', 'abort', abortId, id], admin);
    await slow.waitMigration(abortId, (m) => m.status === 'cancelled', { type: 'live-migration', what: 'cancelled' });
    const aborted = await slow.waitStatus(abortId, 'ACTIVE');
    assert.deepEqual([aborted.status, aborted['OS-EXT-STS:task_state'], hostOf(aborted)], ['ACTIVE', null, source]);
    const [listed] = await slow.json(['server', 'migration', 'list', '--server', abortId, '--type', 'live-migration'], admin);
    assert.deepEqual([listed.Status, listed['Source Compute'], listed['Dest Compute']], ['cancelled', source, running.dest_compute]);

    await Promise.all([
      slow.fails(['server', 'migration', 'abort', abortId, id], new RegExp(`Cannot 'abort live migration' instance ${abortId} while it is in task_state None \\(HTTP 409\\)`), admin),
      slow.fails(['server', 'migration', 'show', abortId, id], new RegExp(`Live migration ${id} for server ${abortId} is not in progress\\. \\(HTTP 404\\)`), admin),
      // Showing one is for admins (a member is refused before the migration is looked up).
      slow.fails(['server', 'migration', 'show', abortId, id], /Policy doesn't allow os_compute_api:servers:migrations:show to be performed\. \(HTTP 403\)/),
    ]);
    await slow.assertLedger();
  });

  it('server migration force complete while it runs: completed, ACTIVE on the destination', async () => {
    const { source, running } = await startLiveMigration(forceId);
    const id = String(running.id);
    const r = await slow.ok(['--debug', 'server', 'migration', 'force', 'complete', forceId, id], admin);
    const [call] = computeCalls(r.stderr).filter((c) => c.method === 'POST');
    assert.deepEqual([call?.url.replace(/^.*\/compute\/v2\.1/, ''), call?.body, call?.status], [`/servers/${forceId}/migrations/${id}/action`, { force_complete: null }, 202]);

    const done = await slow.waitMigration(forceId, (m) => m.status === 'completed' || m.status === 'error' || m.status === 'cancelled', { type: 'live-migration', what: 'its end' });
    assert.equal(done.status, 'completed');
    const moved = await slow.waitStatus(forceId, 'ACTIVE');
    assert.equal(hostOf(moved), running.dest_compute);
    const [listed] = await slow.json(['server', 'migration', 'list', '--server', forceId, '--type', 'live-migration'], admin);
    assert.deepEqual([listed.Status, listed['Source Compute'], listed['Dest Compute']], ['completed', source, running.dest_compute]);
    await slow.fails(['server', 'migration', 'force', 'complete', forceId, id], new RegExp(`Cannot 'force_complete' instance ${forceId} while it is in task_state None \\(HTTP 409\\)`), admin);
    await slow.assertLedger();
  });
});
