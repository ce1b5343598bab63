import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { stringify } from 'yaml';
import type { SeededAccount } from '../identity/index.js';

export interface CloudsYamlOptions {
  /** Keystone v3 URL clients authenticate against, e.g. http://127.0.0.1:8774/identity/v3. */
  authUrl: string;
  region: string;
  accounts: readonly SeededAccount[];
  /** The cloud's maximum compute microversion (release profile), e.g. "2.104". */
  maxComputeVersion: string;
}

/**
 * The newest compute microversion the packaged `openstack` CLI (python-
 * openstackclient 6.0, Debian bookworm) accepts. Without a
 * compute_api_version the CLI talks 2.1 and refuses flags such as
 * `server set --description` (2.19), so clouds.yaml opts clients into the
 * newest version both sides know.
 */
export const CLIENT_MAX_COMPUTE_VERSION = '2.92';

export function clientComputeVersion(serverMax: string): string {
  const minor = (v: string) => Number(v.split('.')[1] ?? 0);
  return minor(serverMax) < minor(CLIENT_MAX_COMPUTE_VERSION) ? serverMax : CLIENT_MAX_COMPUTE_VERSION;
}

/** Hosts that mean "every interface"; clients reach them through loopback. */
const WILDCARD_HOSTS = new Set(['0.0.0.0', '::', '[::]', '']);

/**
 * The base URL a local client should use to reach the service listening on
 * `host:port`: an explicit public URL wins; a wildcard bind becomes 127.0.0.1;
 * IPv6 literals get brackets.
 */
export function clientBaseUrl(host: string, port: number, publicUrl?: string): string {
  if (publicUrl !== undefined && publicUrl !== '') return publicUrl.replace(/\/+$/, '');
  let h = WILDCARD_HOSTS.has(host) ? '127.0.0.1' : host;
  if (h.includes(':') && !h.startsWith('[')) h = `[${h}]`;
  return `http://${h}:${port}`;
}

/** Renders a clouds.yaml with one entry per seeded account (stratus-admin, stratus-demo, ...). */
export function renderCloudsYaml(opts: CloudsYamlOptions): string {
  const clouds: Record<string, unknown> = {};
  for (const a of opts.accounts) {
    clouds[a.cloud] = {
      auth: {
        auth_url: opts.authUrl,
        username: a.username,
        password: a.password,
        project_name: a.projectName,
        user_domain_name: 'Default',
        project_domain_name: 'Default',
      },
      region_name: opts.region,
      identity_api_version: 3,
      compute_api_version: clientComputeVersion(opts.maxComputeVersion),
      interface: 'public',
    };
  }
  const header = '# Written by Stratus at start-up; rewritten on every start.\n';
  return header + stringify({ clouds }, { lineWidth: 0 });
}

/** Writes clouds.yaml (it holds passwords, so mode 0600). */
export function writeCloudsYaml(path: string, opts: CloudsYamlOptions): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, renderCloudsYaml(opts), { mode: 0o600 });
  chmodSync(path, 0o600);
}
