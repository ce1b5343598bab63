import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestCloud, type TestCloud } from '../helpers/cloud.js';
import { boot } from '../helpers/servers.js';

const URL = '/compute/v2.1/os-hypervisors';
type Hv = Record<string, unknown>;

describe('os-hypervisors', () => {
  let cloud: TestCloud;
  let serverId: string;
  let serverHost: string;
  before(async () => {
    cloud = await startTestCloud();
    serverId = await boot(cloud, { name: 'hv-vm' });
    const s = (await cloud.request({ url: `/compute/v2.1/servers/${serverId}`, as: 'admin' })).body.server;
    serverHost = s['OS-EXT-SRV-ATTR:host'] as string;
  });
  after(async () => {
    await cloud.close();
  });
  const get = (path: string, version = '2.1', as: 'admin' | 'demo' = 'admin') => cloud.request({ url: `${URL}${path}`, as, version });

  it('lists one hypervisor per compute host, integer ids below 2.53 and uuids from it', async () => {
    const v21 = await get('');
    assert.equal(v21.status, 200);
    assert.deepEqual(v21.body, {
      hypervisors: [
        { id: 1, hypervisor_hostname: 'compute1', state: 'up', status: 'enabled' },
        { id: 2, hypervisor_hostname: 'compute2', state: 'up', status: 'enabled' },
      ],
    });
    const v253 = (await get('', '2.53')).body.hypervisors as Hv[];
    assert.match(String(v253[0]?.id), /^[0-9a-f-]{36}$/);
  });

  it('shows capacity and usage in detail below 2.88, uptime instead from 2.88', async () => {
    const d = (await get('/detail')).body.hypervisors as Hv[];
    const mine = d.find((h) => h.hypervisor_hostname === serverHost) ?? {};
    const idle = d.find((h) => h.hypervisor_hostname !== serverHost) ?? {};
    assert.equal(mine.vcpus, 16);
    assert.equal(mine.vcpus_used, 1);
    assert.equal(mine.memory_mb_used, 512);
    assert.equal(mine.free_ram_mb, 65536 - 512);
    assert.equal(mine.local_gb_used, 1);
    assert.equal(mine.running_vms, 1);
    assert.equal(idle.running_vms, 0);
    assert.equal(typeof mine.cpu_info, 'string');
    assert.deepEqual((mine.service as Hv).host, serverHost);
    assert.equal(typeof ((await get('/detail', '2.28')).body.hypervisors[0] as Hv).cpu_info, 'object');
    const v288 = (await get('/detail', '2.88')).body.hypervisors[0] as Hv;
    for (const gone of ['vcpus', 'memory_mb', 'local_gb', 'vcpus_used', 'running_vms', 'cpu_info', 'disk_available_least']) assert.equal(gone in v288, false, gone);
    assert.equal(typeof v288.uptime, 'string');
    assert.match(String((v288.service as Hv).id), /^[0-9a-f-]{36}$/);
  });

  it('shows one hypervisor by id (integer below 2.53, uuid from it) and its uptime below 2.88', async () => {
    const one = await get('/1');
    assert.equal(one.status, 200);
    assert.equal(one.body.hypervisor.hypervisor_hostname, 'compute1');
    assert.equal((await get('/99')).body.itemNotFound.message, "Hypervisor with ID '99' could not be found.");
    assert.equal((await get('/abc')).status, 404);
    const uuid = ((await get('', '2.53')).body.hypervisors[0] as Hv).id as string;
    assert.equal((await get(`/${uuid}`, '2.53')).body.hypervisor.id, uuid);
    assert.equal((await get('/1', '2.53')).body.badRequest.message, 'Invalid uuid 1');
    const up = await get('/1/uptime');
    assert.equal(up.status, 200);
    assert.deepEqual(Object.keys(up.body.hypervisor).sort(), ['hypervisor_hostname', 'id', 'state', 'status', 'uptime']);
    assert.equal((await get(`/${uuid}/uptime`, '2.88')).status, 404);
  });

  it('lists the servers on a hypervisor: with_servers from 2.53, the servers route below', async () => {
    const uuid = ((await get('', '2.53')).body.hypervisors as Hv[]).find((h) => h.hypervisor_hostname === serverHost)?.id as string;
    const shown = (await get(`/${uuid}?with_servers=true`, '2.53')).body.hypervisor;
    assert.deepEqual(shown.servers, [{ name: 'hv-vm', uuid: serverId }]);
    const listed = (await get('?with_servers=1', '2.75')).body.hypervisors as Hv[];
    assert.deepEqual(listed.find((h) => h.hypervisor_hostname !== serverHost)?.servers, []);
    const before275 = (await get('?with_servers=1', '2.53')).body.hypervisors as Hv[];
    assert.equal('servers' in (before275.find((h) => h.hypervisor_hostname !== serverHost) ?? {}), false);
    const route = (await get(`/${serverHost}/servers`)).body.hypervisors as Hv[];
    assert.deepEqual(route[0]?.servers, [{ name: 'hv-vm', uuid: serverId }]);
    assert.equal((await get(`/${serverHost}/servers`, '2.53')).status, 404);
  });

  it('searches by hostname pattern', async () => {
    const s = (await get('/compute/search')).body.hypervisors as Hv[];
    assert.equal(s.length, 2);
    const none = await get('/nothing/search');
    assert.equal(none.status, 404);
    assert.equal(none.body.itemNotFound.message, "No hypervisor matching 'nothing' could be found.");
    const p = (await get('?hypervisor_hostname_pattern=ute2', '2.53')).body.hypervisors as Hv[];
    assert.deepEqual(p.map((h) => h.hypervisor_hostname), ['compute2']);
    const paged = await get('?hypervisor_hostname_pattern=ute2&limit=1', '2.53');
    assert.equal(paged.status, 400);
    assert.equal(paged.body.badRequest.message, 'Paging over hypervisors with the hypervisor_hostname_pattern query parameter is not supported.');
    assert.equal((await get('?unknown=1', '2.53')).status, 400);
  });

  it('pages from 2.33 with limit and marker', async () => {
    const first = await get('?limit=1', '2.33');
    assert.deepEqual((first.body.hypervisors as Hv[]).map((h) => h.id), [1]);
    assert.match(first.body.hypervisors_links[0].href, /os-hypervisors\?limit=1&marker=1$/);
    const second = await get('?limit=1&marker=1', '2.33');
    assert.deepEqual((second.body.hypervisors as Hv[]).map((h) => h.id), [2]);
    assert.equal((await get('?marker=77', '2.33')).body.badRequest.message, 'marker [77] not found');
    // Below 2.33 limit is ignored.
    assert.equal(((await get('?limit=1', '2.32')).body.hypervisors as Hv[]).length, 2);
  });

  it('sums statistics below 2.88', async () => {
    const st = (await get('/statistics')).body.hypervisor_statistics;
    assert.equal(st.count, 2);
    assert.equal(st.vcpus, 32);
    assert.equal(st.vcpus_used, 1);
    assert.equal(st.running_vms, 1);
    assert.equal((await get('/statistics', '2.88')).status, 404);
  });

  it('reflects disabled and down services', async () => {
    await cloud.request({ method: 'PUT', url: '/compute/v2.1/os-services/disable', as: 'admin', body: { host: 'compute1', binary: 'nova-compute' } });
    await cloud.request({ method: 'PUT', url: '/compute/v2.1/os-services/force-down', as: 'admin', version: '2.11', body: { host: 'compute1', binary: 'nova-compute', forced_down: true } });
    const one = (await get('/1')).body.hypervisor;
    assert.equal(one.status, 'disabled');
    assert.equal(one.state, 'down');
  });

  it('is admin-only', async () => {
    for (const [path, rule] of [['', 'list'], ['/detail', 'list-detail'], ['/1', 'show'], ['/1/uptime', 'uptime'], ['/statistics', 'statistics'], ['/compute/search', 'search'], ['/compute/servers', 'servers']]) {
      const res = await get(path ?? '', '2.1', 'demo');
      assert.equal(res.status, 403, path);
      assert.equal(res.body.forbidden.message, `Policy doesn't allow os_compute_api:os-hypervisors:${rule ?? ''} to be performed.`);
    }
  });
});
