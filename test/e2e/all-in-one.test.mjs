// The one-command start: listens, writes clouds.yaml, prints how to use it,
// stops on SIGTERM, and refuses unsafe exposure.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { ENTRYPOINT, clientEnv, run, startService } from './helpers/service.mjs';

describe('all-in-one entrypoint', () => {
  let svc;
  before(async () => {
    svc = await startService({ config: { compute: { timing: 'instant' } } });
  });
  after(async () => {
    await svc?.stop();
  });

  it('prints where it listens, the clouds.yaml path and the export line', () => {
    const out = svc.output();
    assert.match(out, new RegExp(`Stratus is listening on http://127\\.0\\.0\\.1:${svc.port}`));
    assert.ok(out.includes(`clouds.yaml: ${svc.cloudsYaml}`), out);
    assert.ok(out.includes(`export OS_CLIENT_CONFIG_FILE=${svc.cloudsYaml} OS_CLOUD=stratus-demo`), out);
  });

  it('serves compute version discovery', async () => {
    const res = await fetch(`${svc.base}/compute/`);
    assert.equal(res.status, 300);
    const body = await res.json();
    assert.deepEqual(body.versions.map((v) => v.id), ['v2.0', 'v2.1']);
  });

  it('writes clouds.yaml readable only by its owner', () => {
    assert.equal(statSync(svc.cloudsYaml).mode & 0o777, 0o600);
    assert.ok(parse(svc.cloudsYamlText()).clouds !== undefined);
  });

  it('writes the three seeded clouds with their passwords', () => {
    const { clouds } = parse(svc.cloudsYamlText());
    assert.deepEqual(Object.keys(clouds ?? {}).sort(), ['stratus-admin', 'stratus-alt_demo', 'stratus-demo']);
    const demo = clouds['stratus-demo'];
    assert.equal(demo.auth.auth_url, `http://127.0.0.1:${svc.port}/identity/v3`);
    assert.equal(demo.auth.username, 'demo');
    assert.equal(demo.auth.password, 'stratus-demo');
    assert.equal(demo.auth.user_domain_name, 'Default');
    assert.equal(demo.auth.project_domain_name, 'Default');
    assert.equal(demo.region_name, 'RegionOne');
    assert.equal(demo.identity_api_version, 3);
    assert.equal(demo.interface, 'public');
    assert.ok(svc.output().includes('password stratus-demo'), 'the banner lists the accounts with passwords');
  });

  it('exits 0 on SIGTERM', async () => {
    const status = await svc.stop();
    assert.deepEqual(status, { code: 0, signal: null }, svc.output());
  });
});

describe('all-in-one refuses unsafe exposure', () => {
  let dir;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'stratus-e2e-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const start = (config, host = '0.0.0.0') => {
    const path = join(dir, `c${Math.random().toString(36).slice(2)}.yaml`);
    writeFileSync(path, JSON.stringify(config));
    return run(process.execPath, [ENTRYPOINT], {
      env: clientEnv({ STRATUS_HOST: host, STRATUS_PORT: '0', STRATUS_DATA_DIR: join(dir, 'data'), STRATUS_CONFIG: path }),
      timeoutMs: 30_000,
    });
  };

  it('on a non-loopback address with the default passwords', async () => {
    const r = await start({});
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stderr, /refusing to listen on 0\.0\.0\.0: .*default password/);
  });

  it('on a non-loopback address with one default password left', async () => {
    const r = await start({ auth: { passwords: { admin: 'Secret-1', demo: 'Secret-2' } } });
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stderr, /auth\.passwords\.alt_demo still has its default password/);
  });

  it('in noauth mode on a non-loopback address', async () => {
    const r = await start({ auth: { mode: 'noauth', passwords: { admin: 'a-1', demo: 'd-1', alt_demo: 'x-1' } } });
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stderr, /noauth/);
  });

  it('with an invalid configuration', async () => {
    const r = await start({ release: 'nonsense' }, '127.0.0.1');
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stderr, /cannot load configuration: invalid configuration/);
  });
});
