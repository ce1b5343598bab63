// What the host-moving end-to-end tests share: a three-host cloud, the CLI
// as the demo and admin accounts, raw admin API access for fast polling,
// booting servers, waiting for a state, reading what the CLI sent (--debug),
// switching a simulated host off and on, and the resource ledger check
// (what os-hypervisors says each host uses against the flavors of the
// servers placed there and of the moves that hold capacity).
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { parse } from 'yaml';
import { computeClient } from './compute-http.mjs';
import { describeRun, openstack, parseJson, startService } from './service.mjs';

/**
 * compute1/compute2 in zone nova, sharing instance storage (shared_storage
 * group `nfs`: a live migration between them is a shared one, a block
 * migration between them fails the pre-checks); compute3 alone in az2 on
 * local storage. Every virt step takes 50 ms unless `step_ms` says otherwise.
 */
export const MOVES_HOSTS = [
  { name: 'compute1', availability_zone: 'nova', shared_storage: 'nfs' },
  { name: 'compute2', availability_zone: 'nova', shared_storage: 'nfs' },
  { name: 'compute3', availability_zone: 'az2' },
];

export const DEMO = 'stratus-demo';
export const ADMIN = 'stratus-admin';

/** Statuses of a server that is between two states (a move, a build, ...). */
const MOVING = new Set(['BUILD', 'RESIZE', 'VERIFY_RESIZE', 'REVERT_RESIZE', 'MIGRATING']);

/**
 * Migrations that hold capacity on a host other than the server's own
 * (OS-EXT-SRV-ATTR:host), by type and status: which host holds the
 * server's flavor. A live migration holds it on its destination from the
 * claim until it completes; an evacuation on its destination while it
 * rebuilds there (the server is still on its source), then, once `done`
 * (the server is on the destination), on its source until the old host has
 * cleaned up and the migration is `completed`.
 */
const HOLDINGS = {
  'live-migration': { queued: 'dest_compute', preparing: 'dest_compute', running: 'dest_compute', 'post-migrating': 'dest_compute' },
  evacuation: { 'pre-migrating': 'dest_compute', done: 'source_compute' },
};

/**
 * The compute API calls in the output of `openstack --debug`, in order:
 * `{ method, url, version, body, status, requestId }` (version is the
 * compute microversion requested, body the parsed JSON sent or null,
 * status the HTTP status answered).
 */
export function computeCalls(stderr) {
  const calls = [];
  for (const line of stderr.split('\n')) {
    const req = /^REQ: curl .*?-X (\S+) (\S+\/compute\/v2\.1\/\S*)(.*)$/.exec(line);
    if (req) {
      const rest = req[3] ?? '';
      const data = /-d '(.*)'\s*$/.exec(rest)?.[1];
      let body;
      try {
        body = data === undefined ? null : JSON.parse(data);
      } catch {
        body = data;
      }
      // novaclient sends OpenStack-API-Version from 2.27 only, X-OpenStack-Nova-API-Version always.
      const version = /"X-OpenStack-Nova-API-Version: (\S+)"/.exec(rest)?.[1] ?? /"OpenStack-API-Version: compute (\S+)"/.exec(rest)?.[1];
      calls.push({ method: req[1], url: req[2], version, body, status: undefined, requestId: undefined });
      continue;
    }
    const last = calls[calls.length - 1];
    if (!last) continue;
    const resp = /^RESP: \[(\d+)\]/.exec(line);
    if (resp && last.status === undefined) last.status = Number(resp[1]);
    const used = /^\S+ call to compute for (\S+) used request id (req-[0-9a-f-]+)/.exec(line);
    if (used && used[1] === last.url) last.requestId = used[2];
  }
  return calls;
}

/**
 * Starts the service with three compute hosts and returns the session the
 * tests drive it through. `config.compute` and `config.quotas` are merged
 * over the defaults.
 */
export async function startMovesSession({ config = {} } = {}) {
  const svc = await startService({
    config: {
      ...config,
      compute: { timing: 'visible', step_ms: 50, hosts: MOVES_HOSTS, ...(config.compute ?? {}) },
      // Room for the dozen servers the scenarios boot.
      quotas: { instances: 40, cores: 80, ram: 262144, ...(config.quotas ?? {}) },
    },
  });
  try {
    const clouds = parse(svc.cloudsYamlText()).clouds;
    const admin = await computeClient(() => svc.base, clouds[ADMIN].auth, { version: '2.87' });
    return movesSession(svc, admin);
  } catch (err) {
    await svc.stop();
    throw err;
  }
}

function movesSession(svc, admin) {
  /** Runs the CLI (demo unless `cloud` says otherwise) and asserts exit 0. */
  async function ok(args, opts = {}) {
    const r = await openstack(svc, args, { timeoutMs: 120_000, ...opts });
    assert.equal(r.code, 0, describeRun(`openstack ${args.join(' ')}${opts.cloud ? ` (${opts.cloud})` : ''}`, r));
    return r;
  }

  /** Runs the CLI with `-f json` and returns what it printed, parsed. */
  async function json(args, opts) {
    return parseJson(`openstack ${args.join(' ')}`, await ok([...args, '-f', 'json'], opts));
  }

  /** Runs the CLI, asserts it fails and that stderr matches `pattern`; returns the run. */
  async function fails(args, pattern, opts = {}) {
    const r = await openstack(svc, args, { timeoutMs: 120_000, ...opts });
    const what = describeRun(`openstack ${args.join(' ')}${opts.cloud ? ` (${opts.cloud})` : ''}`, r);
    assert.notEqual(r.code, 0, `expected a failure: ${what}`);
    assert.match(r.stderr, pattern, what);
    return r;
  }

  /** A raw admin API call (compute paths; default microversion 2.87); asserts the status. */
  async function api(method, path, { status = 200, ...opts } = {}) {
    const r = await admin.request(method, path, opts);
    assert.equal(r.status, status, `${method} ${path}: ${r.status} ${r.text}`);
    return r.body;
  }

  /** `server show` as the admin (by id: the admin's name lookup sees only its own project). */
  async function show(id, { version, cloud = ADMIN } = {}) {
    return json(['server', 'show', id], { cloud, version });
  }

  /**
   * Polls the server through the API until `done(server)` holds (server at
   * 2.47, as an admin sees it), then returns `openstack server show` of it.
   */
  async function waitServer(id, done, { what = 'the expected state', timeoutMs = 30_000, version } = {}) {
    const deadline = Date.now() + timeoutMs;
    let s;
    for (;;) {
      s = (await api('GET', `/servers/${id}`, { version: '2.47' })).server;
      if (done(s)) break;
      if (Date.now() > deadline) {
        assert.fail(`server ${id} did not reach ${what}: status ${s.status}, vm_state ${s['OS-EXT-STS:vm_state']}, task_state ${s['OS-EXT-STS:task_state']}, host ${s['OS-EXT-SRV-ATTR:host']}`);
      }
      await sleep(100);
    }
    return show(id, { version });
  }

  /** Waits for `status` with no task running. */
  function waitStatus(id, status, opts = {}) {
    return waitServer(id, (s) => s.status === status && s['OS-EXT-STS:task_state'] === null, { what: status, ...opts });
  }

  /**
   * `openstack server create` (as the demo account unless `cloud` says
   * otherwise; `--min/--max count` when count > 1, named <name>-1, ...)
   * without --wait, then waits through the API until every server it made
   * is ACTIVE or ERROR and asserts `expect`. Returns the servers as the
   * admin API shows them at 2.71 (host, zone, fault, server_groups).
   */
  async function boot(name, { flavor = 'm1.nano', hints = [], args = [], cloud = DEMO, count = 1, expect = 'ACTIVE' } = {}) {
    const argv = ['server', 'create', '--flavor', flavor, '--image', 'cirros', ...hints.flatMap((h) => ['--hint', h]), ...args];
    if (count > 1) argv.push('--min', String(count), '--max', String(count));
    const created = await json([...argv, name], { cloud });
    assert.match(created.id ?? '', /^[0-9a-f-]{36}$/, `server create printed no id: ${JSON.stringify(created)}`);
    let ids = [created.id];
    if (count > 1) {
      const listed = (await api('GET', `/servers?all_tenants=1&name=${encodeURIComponent(`^${name}-[0-9]+$`)}`)).servers;
      ids = listed.map((x) => x.id);
      assert.equal(ids.length, count, `server create --min/--max ${count} ${name}: ${JSON.stringify(listed)}`);
    }
    const out = [];
    for (const id of ids) {
      const deadline = Date.now() + 30_000;
      let srv;
      for (;;) {
        srv = (await api('GET', `/servers/${id}`, { version: '2.71' })).server;
        if (srv.status === 'ACTIVE' || srv.status === 'ERROR') break;
        if (Date.now() > deadline) assert.fail(`server ${srv.name} is still ${srv.status} (task ${srv['OS-EXT-STS:task_state']})`);
        await sleep(100);
      }
      assert.equal(srv.status, expect, `server ${srv.name} should be ${expect}: ${JSON.stringify(srv.fault ?? srv)}`);
      out.push(srv);
    }
    return count > 1 ? out.sort((a, b) => a.name.localeCompare(b.name)) : out[0];
  }

  /**
   * `openstack server list --all-projects --long` as the admin, by server
   * name: { id, status, host, zone, hostStatus (2.16+) }.
   */
  async function placement() {
    const rows = await json(['server', 'list', '--all-projects', '--long'], { cloud: ADMIN });
    return new Map(rows.map((r) => [r.Name, { id: r.ID, status: r.Status, host: r.Host, zone: r['Availability Zone'], hostStatus: r['Host Status'] }]));
  }

  /**
   * Every live server (all projects), the moves that hold capacity
   * (HOLDINGS) and every hypervisor's usage, taken when no server is busy:
   * each hypervisor's vcpus_used and memory_mb_used (2.87) must equal the
   * sum of the flavors of the servers whose OS-EXT-SRV-ATTR:host is that
   * hypervisor's host, plus those of the live migrations and evacuations
   * holding the server's flavor there. `liveMigrating` also takes a
   * snapshot while servers are live-migrating (MIGRATING). Retries while a
   * server is busy or anything changed between the reads. Returns the usage
   * per host and the snapshot it was checked against ({ used, servers,
   * holdings }).
   */
  async function checkLedger({ timeoutMs = 30_000, liveMigrating = false } = {}) {
    const deadline = Date.now() + timeoutMs;
    const snapshot = async () => {
      const [servers, migrations] = await Promise.all([
        api('GET', '/servers/detail?all_tenants=1', { version: '2.47' }).then((b) => b.servers),
        api('GET', '/os-migrations', { version: '2.59' }).then((b) => b.migrations),
      ]);
      const live = new Set(servers.map((x) => x.id));
      return {
        servers: servers.map((x) => ({
          id: x.id,
          status: x.status,
          task: x['OS-EXT-STS:task_state'],
          host: x['OS-EXT-SRV-ATTR:host'],
          vcpus: x.flavor.vcpus,
          ram: x.flavor.ram,
        })),
        holdings: migrations
          .filter((m) => live.has(m.instance_uuid) && HOLDINGS[m.migration_type]?.[m.status] !== undefined)
          .map((m) => ({ id: m.id, type: m.migration_type, status: m.status, server: m.instance_uuid, host: m[HOLDINGS[m.migration_type][m.status]] })),
      };
    };
    const idle = (x) => (x.task === null && !MOVING.has(x.status)) || (liveMigrating && x.status === 'MIGRATING' && x.task === 'migrating');
    for (;;) {
      const before = await snapshot();
      if (before.servers.every(idle)) {
        const hypervisors = (await api('GET', '/os-hypervisors/detail', { version: '2.87' })).hypervisors;
        const after = await snapshot();
        if (JSON.stringify(after) === JSON.stringify(before)) {
          const used = Object.fromEntries(hypervisors.map((h) => [h.service.host, { vcpus_used: h.vcpus_used, memory_mb_used: h.memory_mb_used }]));
          const expected = Object.fromEntries(hypervisors.map((h) => [h.service.host, { vcpus_used: 0, memory_mb_used: 0 }]));
          const add = (host, x, why) => {
            if (host === null || host === undefined) return;
            const e = expected[host];
            assert.ok(e !== undefined, `${why} is on ${host}, which os-hypervisors does not list`);
            e.vcpus_used += x.vcpus;
            e.memory_mb_used += x.ram;
          };
          const byId = new Map(after.servers.map((x) => [x.id, x]));
          for (const x of after.servers) add(x.host, x, `server ${x.id}`);
          for (const h of after.holdings) add(h.host, byId.get(h.server), `the ${h.type} ${h.id} (${h.status}) of server ${h.server}`);
          assert.deepEqual(used, expected, `os-hypervisors usage against the servers' flavors and the holding moves:\n${JSON.stringify(after, null, 1)}`);
          return { used, ...after };
        }
      }
      if (Date.now() > deadline) assert.fail(`the servers never settled: ${JSON.stringify(before)}`);
      await sleep(100);
    }
  }

  /** checkLedger, returning only the usage per host ({ vcpus_used, memory_mb_used }). */
  async function assertLedger(opts) {
    return (await checkLedger(opts)).used;
  }

  /** Runs the CLI and returns the run, whatever its exit status. */
  function run(args, opts = {}) {
    return openstack(svc, args, { timeoutMs: 120_000, ...opts });
  }

  /** The server's migrations (GET /os-migrations at 2.59, newest first); `type` filters by migration_type. */
  async function migrationsOf(id, type) {
    const q = `instance_uuid=${id}${type ? `&migration_type=${type}` : ''}`;
    return (await api('GET', `/os-migrations?${q}`, { version: '2.59' })).migrations;
  }

  /** Polls the server's newest migration (of `type`) until `done(migration)` holds; returns it. */
  async function waitMigration(id, done, { type, what = 'the expected status', timeoutMs = 30_000 } = {}) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = (await migrationsOf(id, type))[0];
      if (m && done(m)) return m;
      if (Date.now() > deadline) assert.fail(`the newest ${type ?? ''} migration of ${id} did not reach ${what}: ${JSON.stringify(m)}`);
      await sleep(100);
    }
  }

  /** Polls GET /os-services until the host's nova-compute is `state` ('up' or 'down'); returns the service. */
  async function waitService(host, state, { timeoutMs = 30_000 } = {}) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const [svcRow] = (await api('GET', `/os-services?host=${host}&binary=nova-compute`, { version: '2.53' })).services;
      if (svcRow?.state === state) return svcRow;
      if (Date.now() > deadline) assert.fail(`nova-compute on ${host} is not ${state}: ${JSON.stringify(svcRow)}`);
      await sleep(200);
    }
  }

  /**
   * Switches a simulated host off (`down`: its guests are lost, it stops
   * heartbeating, calls to it time out) or on again (`up`: it restarts and
   * recovers) through the fault-injection API (docs/fault-injection.md).
   */
  function hostSwitch(host, state) {
    return api('PUT', `/stratus/fault-injections/hosts/${host}`, { body: { host: { state } } });
  }

  return {
    svc,
    admin,
    ok,
    json,
    fails,
    run,
    api,
    show,
    waitServer,
    waitStatus,
    boot,
    placement,
    assertLedger,
    checkLedger,
    migrationsOf,
    waitMigration,
    waitService,
    hostSwitch,
    stop: () => svc.stop(),
  };
}
