// Scheduling cost with many simulated hosts: the pure filter/weigher pass
// (selectHosts) over 1,000 hosts, and a full placement through the
// conductor (usage query + scheduler + claim) on a cloud configured with
// 1,000 hosts. Prints a table; target: under 5 ms per placement decision.
//
//   npm run bench:scheduler
import { performance } from 'node:perf_hooks';
import { pino } from 'pino';

const { selectHosts } = await import('../dist/src/scheduler/scheduler.js');
const { buildCloud } = await import('../dist/src/app.js');
const { makeConfig } = await import('../dist/src/config/index.js');

const HOSTS = 1000;
const rows = [];
const pct = (xs, p) => xs[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];

// ---- the pure pass -----------------------------------------------------------
{
  const hosts = Array.from({ length: HOSTS }, (_, i) => ({
    host: `h${i}`, node: `h${i}`, availabilityZone: i % 3 === 0 ? 'az1' : 'nova', enabled: i % 50 !== 0,
    vcpus: 64, memoryMb: 262144, diskGb: 4000, cpuAllocationRatio: 4, ramAllocationRatio: 1, diskAllocationRatio: 1,
    usedVcpus: (i * 7) % 200, usedMemoryMb: (i * 997) % 200000, usedDiskGb: (i * 13) % 3000, instances: i % 40,
  }));
  const spec = { vcpus: 2, memoryMb: 4096, diskGb: 40, availabilityZone: null, ignoreHosts: [], requestedHost: null, requestedNode: null };
  const times = [];
  for (let i = 0; i < 2000; i++) {
    const t = performance.now();
    selectHosts(hosts, spec);
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  rows.push({ name: `selectHosts over ${HOSTS} hosts (filters + weighers)`, n: times.length, p50: pct(times, 50), p99: pct(times, 99) });
}

// ---- full placements through the conductor -------------------------------------
{
  const config = makeConfig({
    log_level: 'silent',
    compute: { timing: 'instant', hosts: Array.from({ length: HOSTS }, (_, i) => ({ name: `h${i}`, vcpus: 64, memory_mb: 262144, disk_gb: 4000 })) },
    quotas: { instances: -1, cores: -1, ram: -1 },
  });
  const cloud = await buildCloud({ config, dbPath: ':memory:', log: pino({ level: 'silent' }) });
  try {
    const token = await cloud.identity.issueToken('demo');
    const img = JSON.parse((await cloud.app.inject({ url: '/image/v2/images?name=cirros', headers: { 'x-auth-token': token } })).body).images[0].id;
    const N = 1000;
    const t0 = performance.now();
    for (let i = 0; i < N; i += 50) {
      await Promise.all(
        Array.from({ length: 50 }, (_, k) =>
          cloud.app.inject({
            method: 'POST',
            url: '/compute/v2.1/servers',
            headers: { 'x-auth-token': token, 'content-type': 'application/json' },
            payload: { server: { name: `s${i + k}`, flavorRef: '2', imageRef: img } },
          }),
        ),
      );
    }
    await cloud.bus.drain();
    const total = performance.now() - t0;
    // The conductor's share: time the placement step alone on a settled cloud.
    const times = [];
    const { hostStates } = await import('../dist/src/compute/host-states.js');
    for (let i = 0; i < 200; i++) {
      const t = performance.now();
      const hosts = await hostStates(cloud.db, cloud.config, new Set());
      selectHosts(hosts, { vcpus: 1, memoryMb: 2048, diskGb: 20, availabilityZone: null, ignoreHosts: [], requestedHost: null, requestedNode: null });
      times.push(performance.now() - t);
    }
    times.sort((a, b) => a - b);
    rows.push({ name: `placement decision (usage query + selectHosts), ${HOSTS} hosts, ${N} servers`, n: times.length, p50: pct(times, 50), p99: pct(times, 99), target: '< 5 ms', ok: pct(times, 50) < 5 });
    rows.push({ name: `${N} creates to ACTIVE on ${HOSTS} hosts (in-process)`, n: N, result: `${(total / 1000).toFixed(2)} s` });
  } finally {
    await cloud.close();
  }
}

const head = ['case', 'n', 'p50 ms', 'p99 ms', 'result', 'target', ''];
const table = rows.map((r) => [r.name, String(r.n ?? ''), r.p50 === undefined ? '' : r.p50.toFixed(3), r.p99 === undefined ? '' : r.p99.toFixed(3), r.result ?? '', r.target ?? '', r.ok === undefined ? '' : r.ok ? 'met' : 'MISSED']);
const widths = head.map((h, i) => Math.max(h.length, ...table.map((r) => r[i].length)));
const line = (cells) => cells.map((c, i) => c.padEnd(widths[i])).join('  ');
console.log(line(head));
console.log(widths.map((w) => '-'.repeat(w)).join('  '));
for (const r of table) console.log(line(r));
