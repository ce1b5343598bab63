import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestCloud, type TestCloud } from '../helpers/cloud.js';
import { boot } from '../helpers/servers.js';

/**
 * Throws a fixed set of malformed requests at every compute route family:
 * none may answer 5xx, and every 4xx must carry Nova's fault body.
 */
describe('malformed requests never get a 5xx', () => {
  let cloud: TestCloud;
  let id: string;
  before(async () => {
    cloud = await startTestCloud();
    id = await boot(cloud);
  });
  after(async () => {
    await cloud.close();
  });

  const bodies: unknown[] = [
    '{',
    '[]',
    'null',
    '"x"',
    '1e999',
    {},
    { server: null },
    { server: [] },
    { server: { name: {} } },
    { server: { name: 'x'.repeat(300), flavorRef: '1' } },
    { server: { name: 'x', flavorRef: { a: 1 } } },
    { server: { name: 'x', flavorRef: '1', networks: 'sometimes' } },
    { server: { name: 'x', flavorRef: '1', min_count: -1 } },
    { server: { name: 'x', flavorRef: '1', metadata: { 'bad key!': 1 } } },
    { server: { name: 'x', flavorRef: '1', block_device_mapping_v2: [{ boot_index: 'x' }] } },
    { metadata: [] },
    { meta: {} },
    { tags: 'a' },
    { pause: 1 },
    { reboot: { type: 'SIDEWAYS' } },
    { rebuild: { imageRef: 42 } },
    { createImage: { name: null } },
    { 'os-resetState': { state: 'deleted' } },
    { addSecurityGroup: {} },
    { 'os-getConsoleOutput': { length: 'all' } },
    { unshelve: { availability_zone: 5 } },
    { quota_set: { instances: 'many' } },
    { flavor: { name: '', ram: -1 } },
    { keypair: { name: '' } },
    { resize: { flavorRef: [] } },
    { 'os-migrateLive': { host: 5, block_migration: 'auto' } },
    { 'os-migrateLive': { host: null, block_migration: 'sometimes', disk_over_commit: 'x' } },
    { evacuate: { host: 5, onSharedStorage: 'perhaps' } },
    { force_complete: 1 },
    { aggregate: { name: '', availability_zone: 7 } },
    { add_host: { host: {} } },
    { set_metadata: { metadata: { 'bad key!': [] } } },
    { host: { state: 'sideways' } },
  ];
  const versions = ['2.1', '2.37', '2.75', '2.90', 'latest'];
  const targets: [string, string][] = [
    ['POST', '/compute/v2.1/servers'],
    ['PUT', `/compute/v2.1/servers/SERVER`],
    ['POST', `/compute/v2.1/servers/SERVER/action`],
    ['POST', `/compute/v2.1/servers/SERVER/metadata`],
    ['PUT', `/compute/v2.1/servers/SERVER/metadata`],
    ['PUT', `/compute/v2.1/servers/SERVER/metadata/k`],
    ['PUT', `/compute/v2.1/servers/SERVER/tags`],
    ['POST', `/compute/v2.1/servers/SERVER/remote-consoles`],
    ['POST', '/compute/v2.1/os-keypairs'],
    ['POST', '/compute/v2.1/flavors'],
    ['PUT', '/compute/v2.1/os-quota-sets/PROJECT'],
    ['POST', `/compute/v2.1/servers/SERVER/migrations/1/action`],
    ['POST', '/compute/v2.1/os-aggregates'],
    ['PUT', '/compute/v2.1/os-aggregates/1'],
    ['POST', '/compute/v2.1/os-aggregates/1/action'],
    ['PUT', '/compute/v2.1/os-services/force-down'],
    ['PUT', '/compute/v2.1/stratus/fault-injections/hosts/compute1'],
  ];
  const queries = [
    '/compute/v2.1/servers/detail?limit=-5',
    '/compute/v2.1/servers/detail?limit=99999999999999999999',
    '/compute/v2.1/servers?sort_key=__proto__',
    '/compute/v2.1/servers?changes-since=2026-13-45',
    '/compute/v2.1/servers?name=(',
    '/compute/v2.1/servers?status=%00',
    '/compute/v2.1/servers?marker=%27%20or%201=1',
    '/compute/v2.1/servers?all_tenants=maybe',
    '/compute/v2.1/servers?locked=perhaps',
    '/compute/v2.1/flavors?minRam=x',
    '/compute/v2.1/os-keypairs?limit=x',
    '/compute/v2.1/servers/SERVER/os-instance-actions?limit=x',
    '/compute/v2.1/servers/%E0%A4%A/ips',
    '/compute/v2.1/os-migrations?limit=x&changes-since=never',
    '/compute/v2.1/servers/SERVER/migrations/abc',
    '/compute/v2.1/servers/SERVER/migrations/99999999999999999999',
    '/compute/v2.1/os-aggregates/abc',
    '/compute/v2.1/os-hypervisors?limit=x',
    '/compute/v2.1/os-services?binary=%00',
  ];

  it('answers every malformed body with a 4xx fault', async () => {
    const project = cloud.identity.accounts.find((a) => a.username === 'admin')?.projectId ?? 'x';
    for (const version of versions) {
      for (const [method, raw] of targets) {
        const url = raw.replace('SERVER', id).replace('PROJECT', project);
        for (const body of bodies) {
          for (const as of ['demo', 'admin'] as const) {
            const res = await cloud.request({ method: method as 'POST', url, body, as, version });
            const where = `${method} ${url} @${version} as ${as} with ${JSON.stringify(body)}`;
            assert.ok(res.status < 500, `${where} -> ${res.status} ${res.text}`);
            if (res.status >= 400) {
              const [name] = Object.keys(res.body ?? {});
              assert.ok(name && typeof res.body[name].message === 'string', `${where}: no fault body: ${res.text}`);
            }
          }
        }
      }
    }
  });

  it('answers malformed query strings with a 4xx (or ignores them), never a 5xx', async () => {
    for (const version of versions) {
      for (const raw of queries) {
        const res = await cloud.request({ url: raw.replace('SERVER', id), version, as: 'admin' });
        assert.ok(res.status < 500, `GET ${raw} @${version} -> ${res.status} ${res.text}`);
      }
    }
  });
});
