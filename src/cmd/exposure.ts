import { isIP } from 'node:net';
import { makeConfig, type Config } from '../config/index.js';

/** True when `host` only accepts connections from this machine. */
export function isLoopbackHost(host: string): boolean {
  const h = host.trim().toLowerCase().replace(/^\[(.*)\]$/, '$1');
  if (h === 'localhost' || h === 'localhost.localdomain' || h.endsWith('.localhost')) return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) return h === '::1' || /^::ffff:127\./.test(h);
  return false;
}

/** The seeded passwords the configuration schema falls back to. */
export function defaultPasswords(): Config['auth']['passwords'] {
  return makeConfig({}).auth.passwords;
}

/**
 * Why the service must not start as configured, or null when it may.
 * Listening beyond loopback is refused in noauth mode, and while any seeded
 * account still has its well-known default password.
 */
export function exposureProblem(config: Config, seededPasswords: readonly { cloud: string; password: string }[] = []): string | null {
  if (isLoopbackHost(config.host)) return null;
  if (config.auth.mode === 'noauth') {
    return (
      `refusing to listen on ${config.host}: auth.mode is noauth, which lets anyone act as any user. ` +
      'Bind to 127.0.0.1 (STRATUS_HOST=127.0.0.1) or use auth.mode: keystone with your own passwords.'
    );
  }
  const defaults = defaultPasswords();
  const weak: string[] = [];
  for (const key of Object.keys(defaults) as (keyof typeof defaults)[]) {
    if (config.auth.passwords[key] === defaults[key]) weak.push(`auth.passwords.${key}`);
  }
  if (weak.length === 0) {
    // The accounts as identity actually seeded them, in case they differ from the configuration.
    const known = new Set<string>(Object.values(defaults));
    for (const a of seededPasswords) if (known.has(a.password)) weak.push(a.cloud);
  }
  if (weak.length === 0) return null;
  return (
    `refusing to listen on ${config.host}: ${weak.join(', ')} still ${weak.length === 1 ? 'has its' : 'have their'} default password. ` +
    'Set auth.passwords (admin, demo, alt_demo) in the STRATUS_CONFIG file, or bind to 127.0.0.1.'
  );
}
