/* global AbortSignal */
// Starts the built all-in-one service as a child process on a free loopback
// port with its own data directory, and runs the real OpenStack clients
// against it. Shared by the end-to-end tests and the benchmark.
import { spawn, execFile } from 'node:child_process';
import { createWriteStream, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { stringify } from 'yaml';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const ENTRYPOINT = join(ROOT, 'dist', 'src', 'cmd', 'all-in-one.js');

/** The Debian packages' clients; the first python3 on PATH may lack the modules. */
export const OPENSTACK = '/usr/bin/openstack';
export const PYTHON = '/usr/bin/python3';

const IN_CI = process.env.CI !== undefined && process.env.CI !== '' && process.env.CI !== 'false';

/**
 * Whether the OpenStack clients can be used. Returns a reason to skip when
 * they are absent on a developer machine; throws (so the tests fail, not
 * skip) when they are absent in CI.
 */
export async function clientsOrSkip({ python = [] } = {}) {
  const missing = [];
  if (!onPath('ssh-keygen')) missing.push('ssh-keygen (apt-get install openssh-client)');
  if (!existsSync(OPENSTACK)) missing.push(`${OPENSTACK} (apt-get install python3-openstackclient)`);
  if (!existsSync(PYTHON)) missing.push(PYTHON);
  else if (python.length > 0) {
    const r = await run(PYTHON, ['-c', python.map((m) => `import ${m}`).join('; ')], { timeoutMs: 60_000 });
    if (r.code !== 0) missing.push(`python modules ${python.join(', ')} for ${PYTHON} (${r.stderr.trim().split('\n').pop()})`);
  }
  if (missing.length === 0) return false;
  const msg = `the end-to-end tests need: ${missing.join('; ')}`;
  if (IN_CI) throw new Error(`${msg} (CI is set, so this is a failure; .ci/run installs them)`);
  return `${msg}; skipped because CI is not set`;
}

function onPath(program) {
  return (process.env.PATH ?? '').split(':').some((dir) => dir !== '' && existsSync(join(dir, program)));
}

/** Runs a program without a shell; never rejects. */
export function run(file, args, { env, timeoutMs = 180_000, input } = {}) {
  return new Promise((resolvePromise) => {
    const child = execFile(
      file,
      args,
      { env: env ?? process.env, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024, killSignal: 'SIGKILL' },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        resolvePromise({ code, stdout: String(stdout), stderr: String(stderr), timedOut: Boolean(err?.killed) });
      },
    );
    if (input !== undefined) child.stdin?.end(input);
    else child.stdin?.end();
  });
}

/** A port that was free a moment ago. */
export function freePort() {
  return new Promise((resolvePromise, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen({ host: '127.0.0.1', port: 0 }, () => {
      const { port } = srv.address();
      srv.close(() => resolvePromise(port));
    });
  });
}

/** The environment for a client: no inherited OS_* settings, only ours. */
export function clientEnv(extra = {}) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('OS_') && v !== undefined) env[k] = v;
  return { ...env, PYTHONWARNINGS: 'ignore', ...extra };
}

/**
 * Starts `node dist/src/cmd/all-in-one.js` with `config` (written as the
 * STRATUS_CONFIG YAML) in a fresh temporary data directory, and waits until
 * it serves requests and has written clouds.yaml.
 */
export async function startService({ config = {}, startTimeoutMs = 30_000, keep = process.env.STRATUS_E2E_KEEP === '1' } = {}) {
  if (!existsSync(ENTRYPOINT)) throw new Error(`${ENTRYPOINT} is missing: run npm run build first`);
  const dir = mkdtempSync(join(tmpdir(), 'stratus-e2e-'));
  const configPath = join(dir, 'stratus.yaml');
  writeFileSync(configPath, stringify({ log_level: 'info', ...config }));
  const dataDir = join(dir, 'data');
  const logPath = join(dir, 'service.log');

  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const log = createWriteStream(logPath, { flags: 'a' });
    const child = spawn(process.execPath, [ENTRYPOINT], {
      cwd: dir,
      // MALLOC_ARENA_MAX as `npm start` sets it (fewer glibc malloc arenas: less resident memory).
      env: clientEnv({ STRATUS_HOST: '127.0.0.1', STRATUS_PORT: String(port), STRATUS_DATA_DIR: dataDir, STRATUS_CONFIG: configPath, MALLOC_ARENA_MAX: '2' }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const keepTail = (chunk) => {
      output = (output + String(chunk)).slice(-20_000);
      log.write(chunk);
    };
    child.stdout.on('data', keepTail);
    child.stderr.on('data', keepTail);
    let exited = null;
    const exit = new Promise((r) => child.on('exit', (code, signal) => r((exited = { code, signal }))));

    const base = `http://127.0.0.1:${port}`;
    const cloudsYaml = join(dataDir, 'clouds.yaml');
    const deadline = Date.now() + startTimeoutMs;
    let ready = false;
    while (Date.now() < deadline && exited === null) {
      if (existsSync(cloudsYaml)) {
        try {
          const res = await fetch(`${base}/compute/`, { signal: AbortSignal.timeout(2000) });
          if (res.status === 300) ready = true;
        } catch {
          // not listening yet
        }
        if (ready) break;
      }
      await sleep(100);
    }
    if (!ready) {
      if (exited === null) child.kill('SIGKILL');
      await exit;
      log.end();
      if (attempt < 3 && /already in use/.test(output)) continue;
      if (!keep) rmSync(dir, { recursive: true, force: true });
      throw new Error(`the service did not start (${exited ? `exit ${exited.code ?? exited.signal}` : 'timed out'}):\n${output}`);
    }

    let stopped = false;
    return {
      port,
      base,
      dir,
      dataDir,
      cloudsYaml,
      logPath,
      pid: child.pid,
      /** The last 20 kB of the service's output. */
      output: () => output,
      /** The clouds.yaml the service wrote, parsed by the caller if needed. */
      cloudsYamlText: () => readFileSync(cloudsYaml, 'utf8'),
      /** Sends SIGTERM and waits for a graceful exit (SIGKILL after `graceMs`); returns the exit status. */
      async stop(graceMs = 15_000) {
        if (stopped) return exited;
        stopped = true;
        if (exited === null) child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        const status = await exit;
        clearTimeout(timer);
        log.end();
        if (!keep) rmSync(dir, { recursive: true, force: true });
        return status;
      },
    };
  }
}

/** Runs the openstack CLI against the service as `cloud`, optionally at a compute microversion. */
export function openstack(svc, args, { cloud = 'stratus-demo', version, timeoutMs } = {}) {
  const argv = version === undefined ? args : ['--os-compute-api-version', version, ...args];
  return run(OPENSTACK, argv, { env: clientEnv({ OS_CLIENT_CONFIG_FILE: svc.cloudsYaml, OS_CLOUD: cloud }), timeoutMs });
}

/** A one-line account of a client run, for assertion messages. */
export function describeRun(what, r) {
  const tail = (s) => s.trim().split('\n').slice(-15).join('\n');
  return `${what} exited ${r.code}${r.timedOut ? ' (timed out)' : ''}\n--- stderr ---\n${tail(r.stderr)}\n--- stdout ---\n${tail(r.stdout)}`;
}

/** Parses the JSON a client printed, failing with the client's output when it is not JSON. */
export function parseJson(what, r) {
  try {
    return JSON.parse(r.stdout);
  } catch {
    throw new Error(`${what}: output is not JSON\n${describeRun(what, r)}`);
  }
}
