/**
 * The one-command cloud: Keystone v3 (/identity), Nova v2.1 (/compute) and
 * Glance v2 (/image) in one process, configured from STRATUS_CONFIG and the
 * STRATUS_* environment. Writes <data_dir>/clouds.yaml for the OpenStack
 * clients once it listens.
 */
import { resolve } from 'node:path';
import { buildCloud, type Cloud } from '../app.js';
import { loadConfig, type Config } from '../config/index.js';
import { boundsFor } from '../api/microversion.js';
import type { SeededAccount } from '../identity/index.js';
import { clientBaseUrl, writeCloudsYaml } from './clouds-yaml.js';
import { startIdleGc } from '../lib/idle-gc.js';
import { exposureProblem } from './exposure.js';

/** How long a graceful shutdown may take before the process exits anyway. */
const SHUTDOWN_GRACE_MS = 10_000;

const errorText = (err: unknown): string => (err instanceof Error ? err.message : String(err));

function fail(message: string): number {
  process.stderr.write(`stratus: ${message}\n`);
  return 1;
}

function banner(config: Config, base: string, listenUrl: string, accounts: readonly SeededAccount[], cloudsPath: string): string {
  const bounds = boundsFor(config.release);
  const lines = [
    '',
    `Stratus is listening on ${listenUrl} (release profile ${config.release}, compute API ${bounds.min} - ${bounds.max})`,
    `  Identity (Keystone v3)  ${base}/identity/v3`,
    `  Compute  (Nova v2.1)    ${base}/compute/v2.1`,
    `  Image    (Glance v2)    ${base}/image/v2`,
    `  Data directory          ${resolve(config.data_dir)}`,
    '',
  ];
  if (accounts.length > 0) {
    lines.push('Accounts (domain Default):');
    const width = (pick: (a: SeededAccount) => string) => Math.max(...accounts.map((a) => pick(a).length));
    const [wc, wu, wp] = [width((a) => a.cloud), width((a) => a.username), width((a) => a.projectName)];
    for (const a of accounts) {
      lines.push(`  ${a.cloud.padEnd(wc)}  user ${a.username.padEnd(wu)}  project ${a.projectName.padEnd(wp)}  password ${a.password}`);
    }
  } else if (config.auth.mode === 'noauth') {
    lines.push('Accounts: none (auth.mode noauth: send X-Auth-Token: <user>:<project>; the user "admin" is an administrator)');
  } else {
    lines.push('Accounts: none seeded (the identity service reported no accounts)');
  }
  lines.push(
    '',
    `clouds.yaml: ${cloudsPath}`,
    `  export OS_CLIENT_CONFIG_FILE=${cloudsPath} OS_CLOUD=stratus-demo`,
    '',
  );
  return lines.join('\n');
}

function installSignalHandlers(cloud: Cloud): void {
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      process.stderr.write(`stratus: ${signal} again, exiting without waiting\n`);
      process.exit(1);
    }
    stopping = true;
    cloud.log.info({ signal }, `${signal} received, shutting down`);
    const timer = setTimeout(() => {
      process.stderr.write(`stratus: shutdown took longer than ${SHUTDOWN_GRACE_MS} ms, exiting\n`);
      process.exit(1);
    }, SHUTDOWN_GRACE_MS);
    timer.unref();
    cloud.close().then(
      () => {
        clearTimeout(timer);
        process.exit(0);
      },
      (err: unknown) => {
        process.stderr.write(`stratus: error while shutting down: ${errorText(err)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

async function main(): Promise<number> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    return fail(`cannot load configuration: ${errorText(err)}`);
  }
  const early = exposureProblem(config);
  if (early !== null) return fail(early);

  let cloud: Cloud;
  try {
    cloud = await buildCloud({ config });
  } catch (err) {
    return fail(`cannot start: ${errorText(err)}`);
  }
  const accounts = cloud.identity.accounts;
  const late = exposureProblem(config, accounts);
  if (late !== null) {
    await cloud.close();
    return fail(late);
  }

  installSignalHandlers(cloud);
  // Heap grown for a burst of requests is given back once the service is quiet.
  const idle = startIdleGc();
  cloud.app.addHook('onResponse', (_req, _reply, done) => {
    idle.touch();
    done();
  });
  try {
    await cloud.app.listen({ host: config.host, port: config.port });
  } catch (err) {
    await cloud.close().catch(() => undefined);
    const code = (err as { code?: string }).code;
    if (code === 'EADDRINUSE') return fail(`${config.host}:${config.port} is already in use; set STRATUS_PORT to another port`);
    if (code === 'EADDRNOTAVAIL') return fail(`cannot listen on ${config.host}: no such local address; set STRATUS_HOST`);
    return fail(`cannot listen on ${config.host}:${config.port}: ${errorText(err)}`);
  }

  const address = cloud.app.server.address();
  const port = address !== null && typeof address === 'object' ? address.port : config.port;
  const listenHost = config.host.includes(':') && !config.host.startsWith('[') ? `[${config.host}]` : config.host;
  const base = clientBaseUrl(config.host, port, config.public_url);
  const cloudsPath = resolve(config.data_dir, 'clouds.yaml');
  try {
    writeCloudsYaml(cloudsPath, { authUrl: `${base}/identity/v3`, region: config.region, accounts, maxComputeVersion: String(boundsFor(config.release).max) });
  } catch (err) {
    await cloud.close().catch(() => undefined);
    return fail(`cannot write ${cloudsPath}: ${errorText(err)}`);
  }
  process.stdout.write(banner(config, base, `http://${listenHost}:${port}`, accounts, cloudsPath));
  return 0;
}

main().then(
  (code) => {
    if (code !== 0) process.exit(code);
  },
  (err: unknown) => {
    process.stderr.write(`stratus: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
