// Things the client sessions share: an SSH key pair, Nova's key fingerprint,
// version arithmetic and polling.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PYTHON, run } from './service.mjs';

/** Generates an ed25519 key pair in `dir`; returns the paths and the public key text. */
export async function sshKey(dir, name = 'id_ed25519') {
  const path = join(dir, name);
  const r = await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `stratus-e2e-${name}`, '-f', path], { timeoutMs: 30_000 });
  if (r.code !== 0) throw new Error(`ssh-keygen failed: ${r.stderr}`);
  const publicKey = readFileSync(`${path}.pub`, 'utf8').trim();
  return { path, pubPath: `${path}.pub`, publicKey, fingerprint: novaFingerprint(publicKey) };
}

/** Nova's keypair fingerprint: MD5 of the key blob as colon-separated hex. */
export function novaFingerprint(publicKey) {
  const blob = Buffer.from(publicKey.split(/\s+/)[1] ?? '', 'base64');
  return createHash('md5').update(blob).digest('hex').match(/../g).join(':');
}

/** Compares "2.47" style versions numerically; "2.latest" counts as highest. */
export function compareVersions(a, b) {
  const parse = (v) => (v.endsWith('.latest') ? [Number(v.split('.')[0]), Infinity] : v.split('.').map(Number));
  const [am, an] = parse(a);
  const [bm, bn] = parse(b);
  return am - bm || (an === bn ? 0 : an < bn ? -1 : 1);
}

/** The highest compute microversion the installed novaclient (and so the openstack CLI) accepts. */
export async function novaclientMaxVersion() {
  const r = await run(PYTHON, ['-c', 'import novaclient; print(novaclient.API_MAX_VERSION.get_string())'], { timeoutMs: 60_000 });
  if (r.code !== 0) throw new Error(`cannot read novaclient's maximum microversion: ${r.stderr}`);
  return r.stdout.trim();
}

/** A column of a `-f json` dict column: OSC prints dicts as objects, older releases as `k='v'` strings. */
export function dictHas(value, key, expected) {
  if (value !== null && typeof value === 'object') return value[key] === expected;
  return typeof value === 'string' && value.includes(`${key}='${expected}'`);
}

/**
 * Runs one of the test/e2e/python scripts, which print one JSON object per
 * step ({"step", "ok", ...}). Returns the run
 * and the steps by name.
 */
export async function runPythonSteps(script, args, env) {
  const r = await run(PYTHON, [script, ...args], { env, timeoutMs: 600_000 });
  const steps = new Map();
  for (const line of r.stdout.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const s = JSON.parse(line);
      if (typeof s.step === 'string') steps.set(s.step, s);
    } catch {
      // not a step line
    }
  }
  return { run: r, steps };
}

/** Asserts that a step of runPythonSteps passed, explaining why when it did not. */
export function assertStep(result, name, what) {
  const s = result.steps.get(name);
  if (s === undefined) {
    const failed = [...result.steps.values()].find((x) => !x.ok);
    const why = failed ? `step "${failed.step}" failed first` : `the script exited ${result.run.code}: ${result.run.stderr.trim().split('\n').slice(-10).join('\n')}`;
    throw new Error(`${what}: "${name}" did not run: ${why}`);
  }
  if (!s.ok) throw new Error(`${what}: "${name}" failed: ${s.error}\n${s.trace ?? ''}`);
  return s;
}
