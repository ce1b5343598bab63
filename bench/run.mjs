// Benchmark: starts the built service on a loopback port (instant virt steps,
// unlimited quotas), fills it with servers through the API, and measures the
// compute API with autocannon.
//
//   npm run bench                 # 1,000 then 10,000 servers
//   node bench/run.mjs --quick    # 100 then 1,000 servers, short runs (a smoke test)
//
// Environment: BENCH_DURATION (seconds per measured case, default 10),
// BENCH_CONNECTIONS (autocannon connections, default 10),
// BENCH_CREATE_CONCURRENCY (parallel creates while filling, default 32).
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { URLSearchParams } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import autocannon from 'autocannon';
import { parse } from 'yaml';
import { startService } from '../test/e2e/helpers/service.mjs';

const QUICK = process.argv.includes('--quick');
const SMALL = QUICK ? 100 : 1_000;
const LARGE = QUICK ? 1_000 : 10_000;
const DURATION = Number(process.env.BENCH_DURATION ?? (QUICK ? 2 : 10));
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10);
const CREATE_CONCURRENCY = Number(process.env.BENCH_CREATE_CONCURRENCY ?? 32);
const POST_AMOUNT = QUICK ? 200 : 2_000;
const VERSION = 'compute latest';

const fmt = (n, digits = 1) => (n === undefined || Number.isNaN(n) ? '-' : n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }));
const count = (n) => n.toLocaleString('en-US');

function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** Enough room on the simulated hosts for every server the benchmark makes. */
const HOSTS = ['compute1', 'compute2', 'compute3', 'compute4'].map((name) => ({
  name,
  vcpus: 2048,
  memory_mb: 2 * 1024 * 1024,
  disk_gb: 8192,
}));

const svc = await startService({
  config: {
    log_level: 'warn',
    compute: { timing: 'instant', hosts: HOSTS },
    quotas: { instances: -1, cores: -1, ram: -1, metadata_items: -1, key_pairs: -1 },
  },
  startTimeoutMs: 60_000,
});

const rows = [];
let failed = false;
const stopService = async () => {
  const status = await svc.stop();
  if (status?.code !== 0) console.error(`the service exited with ${JSON.stringify(status)}`);
};
process.on('SIGINT', () => {
  void stopService().then(() => process.exit(130));
});

try {
  const compute = `${svc.base}/compute/v2.1`;
  const token = await login();
  const headers = { 'x-auth-token': token, 'openstack-api-version': VERSION, 'content-type': 'application/json' };
  const flavorRef = await findFlavor('m1.tiny');
  const imageRef = await findImage('cirros');
  const createBody = (name) => JSON.stringify({ server: { name, flavorRef, imageRef, networks: 'none' } });

  console.log(`Stratus benchmark against ${svc.base} (pid ${svc.pid}); ${CONNECTIONS} connections, ${DURATION} s per case${QUICK ? ', quick mode' : ''}\n`);

  // ---- fill to SMALL servers -------------------------------------------------
  const fill1 = await fill(0, SMALL);
  rows.push(fillRow(`POST /servers x${count(SMALL)} (${CREATE_CONCURRENCY} at a time)`, fill1));
  rows.push({
    name: `  until all ${count(SMALL)} ACTIVE`,
    result: `${fmt(fill1.activeAfterMs / 1000, 2)} s`,
    target: `< 10 s for ${count(1000)}`,
    ok: QUICK ? undefined : fill1.activeAfterMs < 10_000,
  });
  const someId = fill1.ids[0];
  // Latency is measured with one client (a request's own time); throughput with CONNECTIONS at once,
  // where p50 mostly measures the queue (the load generator shares the machine's two cores).
  const detailSmall = await cannon(`GET /servers/detail (${count(SMALL)} servers), 1 client`, { url: `${compute}/servers/detail`, headers, connections: 1 });
  rows.push({ ...detailSmall, target: 'p50 < 20 ms', ok: QUICK ? undefined : detailSmall.p50 < 20 });
  rows.push(await cannon(`GET /servers/detail (${count(SMALL)} servers), ${CONNECTIONS} clients`, { url: `${compute}/servers/detail`, headers }));
  rows.push(await cannon(`GET /servers/{id} (${count(SMALL)} servers)`, { url: `${compute}/servers/${someId}`, headers }));

  // ---- fill to LARGE servers -------------------------------------------------
  const fill2 = await fill(SMALL, LARGE);
  rows.push(fillRow(`POST /servers x${count(LARGE - SMALL)} more`, fill2));
  rows.push({ name: `  until all ${count(LARGE)} ACTIVE`, result: `${fmt(fill2.activeAfterMs / 1000, 2)} s` });
  rows.push(
    await cannon(`GET /servers/detail (${count(LARGE)} servers, first page), 1 client`, { url: `${compute}/servers/detail`, headers, connections: 1 }),
  );
  rows.push(
    await cannon(`GET /servers/detail (${count(LARGE)} servers, first page), ${CONNECTIONS} clients`, { url: `${compute}/servers/detail`, headers }),
  );
  rows.push(await cannon(`GET /servers/{id} (${count(LARGE)} servers)`, { url: `${compute}/servers/${someId}`, headers }));
  // Resident memory of the process holding LARGE servers: right after the load (V8 still holds the
  // heap it grew for the bursts), and once idle, when V8's memory reducer has given the freed heap back
  // (polled until it stops falling, at most 45 s). The target is the idle figure; the peak is shown too.
  const loaded = memory(svc.pid);
  rows.push({ name: `resident memory at ${count(LARGE)} servers, right after the load`, result: `${fmt(loaded.rssMb)} MB (peak ${fmt(loaded.hwmMb)} MB)` });
  const idle = await settleMemory(svc.pid, 45_000);
  rows.push({
    name: `resident memory at ${count(LARGE)} servers, idle`,
    result: `${fmt(idle.rssMb)} MB after ${fmt(idle.waitedMs / 1000, 0)} s`,
    target: `< 200 MB at ${count(10000)}`,
    ok: QUICK ? undefined : idle.rssMb < 200,
  });

  // ---- POST create as a load test (a fixed number of requests) ----------------
  rows.push(
    await cannon(`POST /servers (${count(POST_AMOUNT)} requests)`, {
      url: `${compute}/servers`,
      method: 'POST',
      headers,
      body: createBody('bench-post'),
      amount: POST_AMOUNT,
    }),
  );

  // ---- helpers that need the token ---------------------------------------------
  async function findFlavor(name) {
    const res = await fetch(`${compute}/flavors`, { headers });
    if (res.status !== 200) throw new Error(`GET /flavors: ${res.status} ${await res.text()}`);
    const flavor = (await res.json()).flavors.find((f) => f.name === name);
    if (!flavor) throw new Error(`flavor ${name} not found`);
    return flavor.id;
  }

  async function findImage(name) {
    const res = await fetch(`${svc.base}/image/v2/images?name=${encodeURIComponent(name)}`, { headers: { 'x-auth-token': token } });
    if (res.status !== 200) throw new Error(`GET /image/v2/images: ${res.status} ${await res.text()}`);
    const image = (await res.json()).images.find((i) => i.name === name);
    if (!image) throw new Error(`image ${name} not found`);
    return image.id;
  }

  /** Creates servers from..to-1 through the API, CREATE_CONCURRENCY at a time; waits until all are ACTIVE. */
  async function fill(from, to) {
    const ids = [];
    const latencies = [];
    let next = from;
    const t0 = performance.now();
    const worker = async () => {
      while (next < to) {
        const i = next++;
        const started = performance.now();
        const res = await fetch(`${compute}/servers`, { method: 'POST', headers, body: createBody(`bench-${i}`) });
        const text = await res.text();
        latencies.push(performance.now() - started);
        if (res.status !== 202) throw new Error(`POST /servers #${i}: ${res.status} ${text.slice(0, 500)}`);
        ids.push(JSON.parse(text).server.id);
      }
    };
    await Promise.all(Array.from({ length: Math.min(CREATE_CONCURRENCY, to - from) }, worker));
    const acceptedMs = performance.now() - t0;
    await waitActive(to, t0 + Math.max(120_000, (to - from) * 60));
    const activeAfterMs = performance.now() - t0;
    latencies.sort((a, b) => a - b);
    return { ids, acceptedMs, activeAfterMs, perSecond: ((to - from) * 1000) / acceptedMs, p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
  }

  /** Polls until `total` servers of the project are ACTIVE (paging through /servers/detail). */
  async function waitActive(total, deadline) {
    for (;;) {
      let active = 0;
      let other = 0;
      let marker;
      for (let page = 0; page < 1000; page++) {
        const q = new URLSearchParams({ limit: '1000' });
        if (marker) q.set('marker', marker);
        const res = await fetch(`${compute}/servers/detail?${q}`, { headers });
        if (res.status !== 200) throw new Error(`GET /servers/detail: ${res.status} ${(await res.text()).slice(0, 500)}`);
        const { servers } = await res.json();
        for (const s of servers) {
          if (s.status === 'ACTIVE') active++;
          else if (s.status === 'ERROR') throw new Error(`server ${s.id} went to ERROR: ${JSON.stringify(s.fault ?? {})}`);
          else other++;
        }
        if (servers.length === 0 || servers.length < 1000) break;
        marker = servers[servers.length - 1].id;
      }
      if (active >= total) return;
      if (performance.now() > deadline) throw new Error(`only ${active} of ${total} servers ACTIVE (${other} not yet) before the deadline`);
      await sleep(100);
    }
  }
} catch (err) {
  failed = true;
  console.error(`\nbenchmark failed: ${err instanceof Error ? err.message : String(err)}`);
  console.error(`--- last service output ---\n${svc.output().split('\n').slice(-30).join('\n')}`);
} finally {
  printTable(rows);
  await stopService();
}
process.exit(failed ? 1 : 0);

// ---- functions ------------------------------------------------------------------

async function login() {
  const { clouds } = parse(readFileSync(svc.cloudsYaml, 'utf8'));
  const demo = clouds?.['stratus-demo'];
  if (!demo) throw new Error(`no stratus-demo cloud in ${svc.cloudsYaml}`);
  const a = demo.auth;
  const res = await fetch(`${a.auth_url}/auth/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      auth: {
        identity: { methods: ['password'], password: { user: { name: a.username, domain: { name: a.user_domain_name }, password: a.password } } },
        scope: { project: { name: a.project_name, domain: { name: a.project_domain_name } } },
      },
    }),
  });
  const token = res.headers.get('x-subject-token');
  if (res.status !== 201 || !token) throw new Error(`token request: ${res.status} ${(await res.text()).slice(0, 500)}`);
  return token;
}

/** One autocannon run (after a 1 s warm-up); p50/p99 in ms and requests/s. */
async function cannon(name, opts) {
  const base = { connections: CONNECTIONS, ...(opts.amount === undefined ? { duration: DURATION } : {}), ...opts };
  if (opts.amount === undefined) await autocannon({ ...base, duration: 1 });
  const r = await autocannon(base);
  const bad = r.non2xx + r.errors;
  if (bad > 0) {
    failed = true;
    console.error(`${name}: ${r.non2xx} non-2xx responses, ${r.errors} errors (${JSON.stringify(r.statusCodeStats)})`);
  }
  return { name, n: r.requests.total, p50: r.latency.p50, p99: r.latency.p99, rps: r.requests.average, result: bad > 0 ? `${bad} failed` : '' };
}

function fillRow(name, f) {
  return { name, n: f.ids.length, p50: f.p50, p99: f.p99, rps: f.perSecond, result: `all accepted in ${fmt(f.acceptedMs / 1000, 2)} s` };
}

/** Polls the RSS every second until it has not fallen for 12 s (V8's memory reducer first acts about 8 s into idleness) or `maxMs` passed. */
async function settleMemory(pid, maxMs) {
  const start = Date.now();
  let best = memory(pid).rssMb;
  let lastDrop = Date.now();
  while (Date.now() - start < maxMs && Date.now() - lastDrop < 12_000) {
    await sleep(1_000);
    const now = memory(pid).rssMb;
    if (now < best - 1) {
      best = now;
      lastDrop = Date.now();
    }
  }
  return { rssMb: memory(pid).rssMb, waitedMs: Date.now() - start };
}

function memory(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rssMb: kb('VmRSS') / 1024, hwmMb: kb('VmHWM') / 1024 };
}

function printTable(list) {
  if (list.length === 0) return;
  const head = ['case', 'requests', 'p50 ms', 'p99 ms', 'req/s', 'result', 'target', ''];
  const body = list.map((r) => [
    r.name,
    r.n === undefined ? '' : count(r.n),
    r.p50 === undefined ? '' : fmt(r.p50, 2),
    r.p99 === undefined ? '' : fmt(r.p99, 2),
    r.rps === undefined ? '' : fmt(r.rps, 0),
    r.result ?? '',
    r.target ?? '',
    r.ok === undefined ? '' : r.ok ? 'met' : 'MISSED',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((row) => String(row[i]).length)));
  const right = new Set([1, 2, 3, 4]);
  const line = (row) => row.map((c, i) => (right.has(i) ? String(c).padStart(widths[i]) : String(c).padEnd(widths[i]))).join('  ').trimEnd();
  console.log(`\n${line(head)}\n${widths.map((w) => '-'.repeat(w)).join('  ').trimEnd()}`);
  for (const row of body) console.log(line(row));
  console.log('');
}
