// Moving servers between hosts with the real `openstack` CLI 6.0
// (python3-openstackclient, novaclient 18.1, openstacksdk 0.101) against a
// cloud of three simulated hosts: compute1 and compute2 in zone nova,
// compute3 alone in az2. One server (S) is resized, reverted and migrated;
// the compute services are disabled and forced down; server groups place
// their members. After every scenario the resource ledger is checked through
// the API: each hypervisor's vcpus_used/memory_mb_used (2.87) is the sum of
// the flavors of the servers on that host.
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
//   `hypervisor show` also lists /os-aggregates (for the host's aggregates),
//   which Stratus does not serve yet: the CLI fails with a 404. That test is a
//   `todo`; the same fields are checked through the API meanwhile.
// - `server group create --rule` needs 2.64.
//
// The tests marked `todo` are differences from Nova found here; they run and
// report, and start passing once Stratus is fixed.
//
// Live migration, evacuate and `server migration show/abort/force complete`
// are not served yet; their tests belong at the end of the describe block,
// using the same session (`s`), the server S and the `moves` record.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { clientsOrSkip } from './helpers/service.mjs';
import { ADMIN, DEMO, startMovesSession } from './helpers/moves-session.mjs';

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
const admin = { cloud: ADMIN };
const COMPUTE_HOSTS = ['compute1', 'compute2', 'compute3'];
const ZONES = { compute1: 'nova', compute2: 'nova', compute3: 'az2' };
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
  /** What the todo tests check, captured by the tests that produce it. */
  const seen = {};

  before(async () => {
    s = await startMovesSession();
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

  it(
    'openstack hypervisor show compute1 (default 2.92, 2.87)',
    { todo: 'OSC lists GET /os-aggregates for the "aggregates" field; Stratus answers 404 (os-aggregates is not served yet)' },
    async () => {
      const dflt = await s.json(['hypervisor', 'show', 'compute1'], admin);
      assert.equal(dflt.hypervisor_hostname, 'compute1');
      assert.equal(dflt.service_host, 'compute1');
      assert.deepEqual(dflt.aggregates, []);
      assert.ok(dflt.uptime, 'uptime from the 2.88 body');
      assert.ok(!('vcpus_used' in dflt));
      const v87 = await s.json(['hypervisor', 'show', 'compute1'], { ...admin, version: '2.87' });
      assert.equal(v87.vcpus, 16);
      assert.ok(v87.host_time, 'the os-hypervisors/{id}/uptime line parsed into host_time');
    },
  );

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
      // Nova's wording is checked by a todo test below.
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

  it(
    'an unpinned server migrated to compute3 shows the zone of its new host (az2)',
    { todo: "Stratus keeps OS-EXT-AZ:availability_zone at the boot host's zone (nova) after a resize or cold migration; Nova shows the new host's zone" },
    () => {
      assert.ok(seen.onCompute3, 'the migrate --host test ran');
      assert.equal(seen.onCompute3['OS-EXT-AZ:availability_zone'], 'az2');
    },
  );

  it(
    "server migrate --host <its own host>: Nova's message",
    { todo: 'Stratus answers 400 "Cannot migrate instance <uuid> to the same host <host>." where Nova says "Cannot migrate to the host where the server exists."' },
    () => {
      assert.match(seen.ownHostError ?? '', /Cannot migrate to the host where the server exists\. \(HTTP 400\)/);
    },
  );

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

  it(
    "server migration list: Nova's field values (dest_host is the destination's IP, flavor ids are integers)",
    { todo: 'Stratus records dest_host as the host name (Nova: the destination host IP, my_ip) and old/new_instance_type_id as flavor id strings (Nova: integers)' },
    () => {
      assert.ok(seen.migrations && seen.hostIps, 'the migration list and hypervisor list tests ran');
      for (const m of seen.migrations) {
        assert.equal(m['Dest Host'], seen.hostIps[m['Dest Compute']], `dest_host of migration ${m.Id}`);
        assert.equal(typeof m['Old Flavor'], 'number', `old_instance_type_id of migration ${m.Id}`);
        assert.equal(typeof m['New Flavor'], 'number', `new_instance_type_id of migration ${m.Id}`);
      }
    },
  );

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
});
