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
