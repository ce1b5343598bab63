import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestCloud, type TestCloud } from '../helpers/cloud.js';
import { boot } from '../helpers/servers.js';

async function hostsOf(cloud: TestCloud, n: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const id = await boot(cloud, { name: `w${i}` });
    out.push((await cloud.request({ url: `/compute/v2.1/servers/${id}`, as: 'admin' })).body.server['OS-EXT-SRV-ATTR:host'] as string);
  }
  return out;
}

describe('scheduler weighing: spread by default, stack when configured', () => {
  let spread: TestCloud;
  let stack: TestCloud;
  before(async () => {
    const hosts = [{ name: 'h1' }, { name: 'h2' }, { name: 'h3' }];
    spread = await startTestCloud({ compute: { hosts } });
    stack = await startTestCloud({ compute: { hosts }, scheduler: { ram_weight_multiplier: -1.0, cpu_weight_multiplier: -1.0 } });
  });
  after(async () => {
    await spread.close();
    await stack.close();
  });

  it('spreads servers over the hosts with the default multipliers', async () => {
    assert.deepEqual(new Set(await hostsOf(spread, 3)).size, 3);
  });

  it('stacks them on one host with negative RAM and CPU multipliers', async () => {
    assert.deepEqual(new Set(await hostsOf(stack, 3)).size, 1);
  });
});

describe('scheduler: image properties', () => {
  let cloud: TestCloud;
  before(async () => {
    cloud = await startTestCloud({ compute: { hosts: [{ name: 'x1' }, { name: 'a1', cpu_arch: 'aarch64' }] } });
  });
  after(async () => {
    await cloud.close();
  });

  it('sends an image that asks for aarch64 to the aarch64 host only, and nowhere once that host is disabled', async () => {
    const image = String((await cloud.request({ url: '/image/v2/images?name=cirros' })).body.images[0].id);
    const patch = await cloud.request({
      method: 'PATCH',
      url: `/image/v2/images/${image}`,
      as: 'admin',
      headers: { 'content-type': 'application/openstack-images-v2.1-json-patch' },
      body: [{ op: 'add', path: '/hw_architecture', value: 'aarch64' }],
    });
    assert.equal(patch.status, 200, patch.text);
    assert.deepEqual(new Set(await hostsOf(cloud, 2)), new Set(['a1']));
    const disable = await cloud.request({ method: 'PUT', url: '/compute/v2.1/os-services/disable', as: 'admin', body: { host: 'a1', binary: 'nova-compute' } });
    assert.equal(disable.status, 200, disable.text);
    const id = await boot(cloud, { name: 'nowhere' });
    const s = (await cloud.request({ url: `/compute/v2.1/servers/${id}` })).body.server;
    assert.equal(s.status, 'ERROR');
    assert.match(s.fault.message, /^No valid host was found/);
    const hv = (await cloud.request({ url: '/compute/v2.1/os-hypervisors/detail', as: 'admin', version: '2.28' })).body.hypervisors as { hypervisor_hostname: string; cpu_info: { arch: string } }[];
    assert.equal(hv.find((h) => h.hypervisor_hostname === 'a1')?.cpu_info.arch, 'aarch64');
  });
});
