// What the host-moving end-to-end tests share: a three-host cloud, the CLI
// as the demo and admin accounts, raw admin API access for fast polling,
// booting servers, waiting for a state, and the resource ledger check
// (what os-hypervisors says each host uses against the flavors of the
// servers placed there).
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { parse } from 'yaml';
import { computeClient } from './compute-http.mjs';
import { describeRun, openstack, parseJson, startService } from './service.mjs';

/** compute1/compute2 in zone nova, compute3 alone in az2; every virt step takes 50 ms. */
export const MOVES_HOSTS = [
  { name: 'compute1', availability_zone: 'nova' },
  { name: 'compute2', availability_zone: 'nova' },
  { name: 'compute3', availability_zone: 'az2' },
];

export const DEMO = 'stratus-demo';
export const ADMIN = 'stratus-admin';

/** Statuses of a server that is between two states (a move, a build, ...). */
const MOVING = new Set(['BUILD', 'RESIZE', 'VERIFY_RESIZE', 'REVERT_RESIZE', 'MIGRATING']);

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
   * Every live server (all projects) and every hypervisor's usage, taken
   * when no server is moving or busy: each hypervisor's vcpus_used and
   * memory_mb_used (2.87) must equal the sum of the flavors of the servers
   * whose OS-EXT-SRV-ATTR:host is that hypervisor's host. Retries while a
   * move is in progress or the servers changed between the reads.
   */
  async function assertLedger({ timeoutMs = 30_000 } = {}) {
    const deadline = Date.now() + timeoutMs;
    const snapshot = async () => {
      const servers = (await api('GET', '/servers/detail?all_tenants=1', { version: '2.47' })).servers;
      return servers.map((s) => ({
        id: s.id,
        status: s.status,
        task: s['OS-EXT-STS:task_state'],
        host: s['OS-EXT-SRV-ATTR:host'],
        vcpus: s.flavor.vcpus,
        ram: s.flavor.ram,
      }));
    };
    for (;;) {
      const before = await snapshot();
      const settled = before.every((s) => s.task === null && !MOVING.has(s.status));
      if (settled) {
        const hypervisors = (await api('GET', '/os-hypervisors/detail', { version: '2.87' })).hypervisors;
        const after = await snapshot();
        if (JSON.stringify(after) === JSON.stringify(before)) {
          const used = Object.fromEntries(hypervisors.map((h) => [h.service.host, { vcpus_used: h.vcpus_used, memory_mb_used: h.memory_mb_used }]));
          const expected = Object.fromEntries(hypervisors.map((h) => [h.service.host, { vcpus_used: 0, memory_mb_used: 0 }]));
          for (const s of after) {
            if (s.host === null || s.host === undefined) continue;
            const e = expected[s.host];
            assert.ok(e !== undefined, `server ${s.id} is on ${s.host}, which os-hypervisors does not list`);
            e.vcpus_used += s.vcpus;
            e.memory_mb_used += s.ram;
          }
          assert.deepEqual(used, expected, `os-hypervisors usage against the servers' flavors:\n${JSON.stringify(after, null, 1)}`);
          return used;
        }
      }
      if (Date.now() > deadline) assert.fail(`the servers never settled: ${JSON.stringify(before)}`);
      await sleep(100);
    }
  }

  return { svc, admin, ok, json, fails, api, show, waitServer, waitStatus, boot, placement, assertLedger, stop: () => svc.stop() };
}
