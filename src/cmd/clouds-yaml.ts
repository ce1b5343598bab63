import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { stringify } from 'yaml';
import type { SeededAccount } from '../identity/index.js';

export interface CloudsYamlOptions {
  /** Keystone v3 URL clients authenticate against, e.g. http://127.0.0.1:8774/identity/v3. */
  authUrl: string;
  region: string;
  accounts: readonly SeededAccount[];
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
