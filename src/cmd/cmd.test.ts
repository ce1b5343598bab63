import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { makeConfig } from '../config/index.js';
import { clientBaseUrl, renderCloudsYaml, writeCloudsYaml } from './clouds-yaml.js';
import { exposureProblem, isLoopbackHost } from './exposure.js';

const accounts = [
  { cloud: 'stratus-admin', username: 'admin', password: 'pw-a', projectName: 'admin', projectId: 'p1', userId: 'u1' },
  { cloud: 'stratus-demo', username: 'demo', password: 'pw-d', projectName: 'demo', projectId: 'p2', userId: 'u2' },
];

describe('clouds.yaml', () => {
  it('has one cloud per seeded account with the keystone v3 settings', () => {
    const doc = parse(renderCloudsYaml({ authUrl: 'http://127.0.0.1:8774/identity/v3', region: 'RegionOne', accounts, maxComputeVersion: '2.104' }));
    assert.deepEqual(Object.keys(doc.clouds), ['stratus-admin', 'stratus-demo']);
    assert.deepEqual(doc.clouds['stratus-demo'], {
      auth: {
        auth_url: 'http://127.0.0.1:8774/identity/v3',
        username: 'demo',
        password: 'pw-d',
        project_name: 'demo',
        user_domain_name: 'Default',
        project_domain_name: 'Default',
      },
      region_name: 'RegionOne',
      identity_api_version: 3,
      compute_api_version: '2.92',
      interface: 'public',
    });
  });

  it('asks for the cloud\'s maximum microversion when it is below the CLI\'s', () => {
    const doc = parse(renderCloudsYaml({ authUrl: 'http://x/identity/v3', region: 'RegionOne', accounts, maxComputeVersion: '2.79' }));
    assert.equal(doc.clouds['stratus-demo'].compute_api_version, '2.79');
  });

  it('is written with mode 0600', () => {
    const dir = mkdtempSync(join(tmpdir(), 'stratus-cmd-'));
    try {
      const path = join(dir, 'sub', 'clouds.yaml');
      writeCloudsYaml(path, { authUrl: 'http://x/identity/v3', region: 'RegionOne', accounts, maxComputeVersion: '2.104' });
      assert.equal(statSync(path).mode & 0o777, 0o600);
      assert.match(readFileSync(path, 'utf8'), /stratus-admin/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('points clients at loopback when bound to every interface', () => {
    assert.equal(clientBaseUrl('0.0.0.0', 8774), 'http://127.0.0.1:8774');
    assert.equal(clientBaseUrl('::', 8774), 'http://127.0.0.1:8774');
    assert.equal(clientBaseUrl('::1', 9000), 'http://[::1]:9000');
    assert.equal(clientBaseUrl('10.0.0.5', 8774), 'http://10.0.0.5:8774');
    assert.equal(clientBaseUrl('0.0.0.0', 8774, 'https://cloud.example/'), 'https://cloud.example');
  });
});

describe('exposure check', () => {
  it('knows loopback hosts', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost']) assert.equal(isLoopbackHost(h), true, h);
    for (const h of ['0.0.0.0', '::', '10.0.0.1', 'example.com', '']) assert.equal(isLoopbackHost(h), false, h);
  });

  it('allows anything on loopback', () => {
    assert.equal(exposureProblem(makeConfig({})), null);
    assert.equal(exposureProblem(makeConfig({ auth: { mode: 'noauth' } })), null);
  });

  it('refuses default passwords beyond loopback', () => {
    const p = exposureProblem(makeConfig({ host: '0.0.0.0', auth: { passwords: { admin: 'secret-1' } } }));
    assert.match(p ?? '', /auth\.passwords\.demo, auth\.passwords\.alt_demo still have their default password/);
  });

  it('refuses noauth beyond loopback', () => {
    const p = exposureProblem(makeConfig({ host: '0.0.0.0', auth: { mode: 'noauth', passwords: { admin: 'a1', demo: 'd1', alt_demo: 'x1' } } }));
    assert.match(p ?? '', /noauth/);
  });

  it('allows own passwords beyond loopback, unless identity seeded a default anyway', () => {
    const cfg = makeConfig({ host: '0.0.0.0', auth: { passwords: { admin: 'a1', demo: 'd1', alt_demo: 'x1' } } });
    assert.equal(exposureProblem(cfg), null);
    assert.match(exposureProblem(cfg, [{ cloud: 'stratus-demo', password: 'stratus-demo' }]) ?? '', /stratus-demo still has its default/);
  });
});
