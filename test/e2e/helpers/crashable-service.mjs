/* global AbortSignal */
// The built all-in-one service in a data directory that outlives the
// process: it can be SIGKILLed and started again on the same directory (and,
// when it is still free, the same port). Used by the crash test.
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parse, stringify } from 'yaml';
import { ENTRYPOINT, clientEnv, freePort } from './service.mjs';

/**
 * Starts the service with `config` in a fresh temporary directory. The
 * returned handle can `kill()` it (SIGKILL, no shutdown at all) and
 * `restart()` it on the same data directory.
 */
export async function startCrashableService({ config = {}, startTimeoutMs = 30_000, keep = process.env.STRATUS_E2E_KEEP === '1' } = {}) {
  if (!existsSync(ENTRYPOINT)) throw new Error(`${ENTRYPOINT} is missing: run npm run build first`);
  const dir = mkdtempSync(join(tmpdir(), 'stratus-e2e-crash-'));
  const configPath = join(dir, 'stratus.yaml');
  writeFileSync(configPath, stringify({ log_level: 'info', ...config }));
  const dataDir = join(dir, 'data');
  const logPath = join(dir, 'service.log');
  const log = createWriteStream(logPath, { flags: 'a' });
  const cloudsYaml = join(dataDir, 'clouds.yaml');

  let output = '';
  let port = await freePort();
  let proc = null;
  let starts = 0;

  async function launch() {
    for (let attempt = 1; ; attempt++) {
      starts++;
      log.write(`\n===== start ${starts} on port ${port} =====\n`);
      const child = spawn(process.execPath, [ENTRYPOINT], {
        cwd: dir,
        env: clientEnv({ STRATUS_HOST: '127.0.0.1', STRATUS_PORT: String(port), STRATUS_DATA_DIR: dataDir, STRATUS_CONFIG: configPath, MALLOC_ARENA_MAX: '2' }),
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const keepTail = (chunk) => {
        output = (output + String(chunk)).slice(-40_000);
        log.write(chunk);
      };
      child.stdout.on('data', keepTail);
      child.stderr.on('data', keepTail);
      const state = { child, exited: null };
      state.exit = new Promise((r) => child.on('exit', (code, signal) => r((state.exited = { code, signal }))));

      const deadline = Date.now() + startTimeoutMs;
      let ready = false;
      while (Date.now() < deadline && state.exited === null && !ready) {
        if (existsSync(cloudsYaml)) {
          try {
            const res = await fetch(`http://127.0.0.1:${port}/compute/`, { signal: AbortSignal.timeout(2000) });
            ready = res.status === 300;
          } catch {
            // not listening yet
          }
        }
        if (!ready) await sleep(50);
      }
      if (ready && state.exited === null) {
        proc = state;
        return;
      }
      if (state.exited === null) child.kill('SIGKILL');
      await state.exit;
      if (attempt < 3 && /already in use/.test(output)) {
        port = await freePort();
        continue;
      }
      throw new Error(`the service did not start (${state.exited ? `exit ${state.exited.code ?? state.exited.signal}` : 'timed out'}):\n${output.slice(-5000)}`);
    }
  }

  await launch();

  return {
    dir,
    dataDir,
    logPath,
    get port() {
      return port;
    },
    get base() {
      return `http://127.0.0.1:${port}`;
    },
    get pid() {
      return proc?.child.pid;
    },
    /** How many times the process was started. */
    get starts() {
      return starts;
    },
    /** The accounts of the clouds.yaml the service wrote: { 'stratus-demo': { username, password, project_name, ... } }. */
    accounts() {
      const doc = parse(readFileSync(cloudsYaml, 'utf8'));
      return Object.fromEntries(Object.entries(doc.clouds ?? {}).map(([name, c]) => [name, c.auth]));
    },
    output: () => output,
    /** SIGKILL: the process gets no chance to finish anything. Returns the exit status. */
    async kill() {
      if (proc === null) throw new Error('the service is not running');
      const p = proc;
      proc = null;
      if (p.exited === null) p.child.kill('SIGKILL');
      return p.exit;
    },
    /** Starts the service again on the same data directory (same port when free). */
    async restart() {
      if (proc !== null) throw new Error('the service is still running');
      await launch();
    },
    /** SIGTERM and a graceful exit (SIGKILL after graceMs); removes the directory unless kept. */
    async stop(graceMs = 15_000) {
      let status = null;
      if (proc !== null) {
        const p = proc;
        proc = null;
        if (p.exited === null) p.child.kill('SIGTERM');
        const timer = setTimeout(() => p.child.kill('SIGKILL'), graceMs);
        status = await p.exit;
        clearTimeout(timer);
      }
      log.end();
      if (!keep) rmSync(dir, { recursive: true, force: true });
      return status;
    },
  };
}
