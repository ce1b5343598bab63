import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestCloud, type TestCloud } from '../../helpers/cloud.js';
import { boot } from '../../helpers/servers.js';

type Who = 'demo' | 'admin' | 'alt_demo';

describe('action: addFloatingIp / removeFloatingIp, addFixedIp / removeFixedIp, and the floating IP proxy', () => {
  let cloud: TestCloud;
  before(async () => {
    cloud = await startTestCloud({ quotas: { instances: -1, cores: -1, ram: -1 } });
  });
  after(async () => {
    await cloud.close();
  });
  const act = (id: string, body: unknown, as: Who = 'demo', version?: string) =>
    cloud.request({ method: 'POST', url: `/compute/v2.1/servers/${id}/action`, as, body, ...(version ? { version } : {}) });
  const show = async (id: string, as: Who = 'demo') => (await cloud.request({ url: `/compute/v2.1/servers/${id}`, as })).body.server;
  const allocate = async (as: Who = 'demo', body: unknown = { pool: 'public' }) => {
    const res = await cloud.request({ method: 'POST', url: '/compute/v2.1/os-floating-ips', as, body });
    assert.equal(res.status, 200, res.text);
    return res.body.floating_ip as { id: string; ip: string; fixed_ip: string | null; instance_id: string | null; pool: string };
  };
  const fixedOf = (server: { addresses: Record<string, { addr: string; 'OS-EXT-IPS:type': string; version: number }[]> }) =>
    (server.addresses.private ?? []).filter((a) => a['OS-EXT-IPS:type'] === 'fixed' && a.version === 4).map((a) => a.addr);

  describe('floating IPs', () => {
    it('allocates from the public pool and lists pools', async () => {
      const pools = await cloud.request({ url: '/compute/v2.1/os-floating-ip-pools' });
      assert.deepEqual(pools.body, { floating_ip_pools: [{ name: 'public' }] });
      const fip = await allocate();
      assert.match(fip.ip, /^172\.24\.4\.\d+$/);
      assert.deepEqual({ ...fip, id: 'x', ip: 'x' }, { fixed_ip: null, id: 'x', instance_id: null, ip: 'x', pool: 'public' });
      const dflt = await allocate('demo', undefined);
      assert.equal(dflt.pool, 'public', 'no body: the default pool');
      const list = await cloud.request({ url: '/compute/v2.1/os-floating-ips' });
      assert.ok(list.body.floating_ips.some((f: { id: string }) => f.id === fip.id));
      assert.deepEqual((await cloud.request({ url: `/compute/v2.1/os-floating-ips/${fip.id}` })).body, { floating_ip: fip });
      assert.equal((await cloud.request({ url: `/compute/v2.1/os-floating-ips/${fip.id}`, as: 'alt_demo' })).status, 404);
      const nopool = await cloud.request({ method: 'POST', url: '/compute/v2.1/os-floating-ips', body: { pool: 'nope' } });
      assert.deepEqual(nopool.body, { itemNotFound: { code: 404, message: 'Floating IP pool not found.' } });
      assert.equal((await cloud.request({ method: 'POST', url: '/compute/v2.1/os-floating-ips', body: { pool: 5 } })).status, 400);
      assert.equal((await cloud.request({ url: '/compute/v2.1/os-floating-ips', version: '2.36' })).status, 404);
      assert.equal((await cloud.request({ url: '/compute/v2.1/os-floating-ip-pools', version: '2.36' })).status, 404);
      const missing = await cloud.request({ url: '/compute/v2.1/os-floating-ips/00000000-0000-0000-0000-000000000000' });
      assert.deepEqual(missing.body, { itemNotFound: { code: 404, message: 'Floating IP not found for ID 00000000-0000-0000-0000-000000000000' } });
    });

    it('binds a floating IP to the first fixed IPv4, shows it in addresses, unbinds it', async () => {
      const id = await boot(cloud);
      const fip = await allocate();
      const add = await act(id, { addFloatingIp: { address: fip.ip } });
      assert.equal(add.status, 202);
      assert.equal(add.text, '');
      const server = await show(id);
      const priv = server.addresses.private as { addr: string; version: number; 'OS-EXT-IPS:type': string; 'OS-EXT-IPS-MAC:mac_addr': string }[];
      assert.deepEqual(priv.map((a) => a['OS-EXT-IPS:type']), ['fixed', 'fixed', 'floating']);
      const floating = priv[2];
      assert.deepEqual(floating, { version: 4, addr: fip.ip, 'OS-EXT-IPS:type': 'floating', 'OS-EXT-IPS-MAC:mac_addr': priv[0]?.['OS-EXT-IPS-MAC:mac_addr'] });
      const ips = await cloud.request({ url: `/compute/v2.1/servers/${id}/ips` });
      assert.deepEqual(ips.body.addresses.private.at(-1), { version: 4, addr: fip.ip });
      const shown = (await cloud.request({ url: `/compute/v2.1/os-floating-ips/${fip.id}` })).body.floating_ip;
      assert.deepEqual(shown, { ...fip, fixed_ip: priv[0]?.addr, instance_id: id });
      const rm = await act(id, { removeFloatingIp: { address: fip.ip } });
      assert.equal(rm.status, 202);
      assert.deepEqual(((await show(id)).addresses.private as unknown[]).length, 2);
      const again = await act(id, { removeFloatingIp: { address: fip.ip } });
      assert.equal(again.status, 403, 'an unbound address has no owner to check the policy against (as in Nova)');
      const adminAgain = await act(id, { removeFloatingIp: { address: fip.ip } }, 'admin');
      assert.deepEqual(adminAgain.body, { conflictingRequest: { code: 409, message: `Floating IP ${fip.ip} is not associated with instance ${id}.` } });
    });

    it('moves a floating IP between servers and keeps it when a server is deleted', async () => {
      const a = await boot(cloud);
      const b = await boot(cloud);
      const fip = await allocate();
      assert.equal((await act(a, { addFloatingIp: { address: fip.ip } })).status, 202);
      assert.equal((await act(b, { addFloatingIp: { address: fip.ip } })).status, 202);
      assert.equal((await show(a)).addresses.private.length, 2);
      assert.equal((await show(b)).addresses.private.length, 3);
      const notHere = await act(a, { removeFloatingIp: { address: fip.ip } });
      assert.deepEqual(notHere.body, { conflictingRequest: { code: 409, message: `Floating IP ${fip.ip} is not associated with instance ${a}.` } });
      assert.equal((await cloud.request({ method: 'DELETE', url: `/compute/v2.1/servers/${b}` })).status, 204);
      await cloud.settle();
      const kept = (await cloud.request({ url: `/compute/v2.1/os-floating-ips/${fip.id}` })).body.floating_ip;
      assert.equal(kept.instance_id, null);
      assert.equal(kept.fixed_ip, null);
    });

    it('binds to a named fixed address, refuses others (400) and unknown floating IPs (404)', async () => {
      const id = await boot(cloud);
      const fixed = fixedOf(await show(id));
      const fip = await allocate();
      const wrong = await act(id, { addFloatingIp: { address: fip.ip, fixed_address: '10.9.9.9' } });
      assert.deepEqual(wrong.body, { badRequest: { code: 400, message: 'Specified fixed address not assigned to instance' } });
      assert.equal((await act(id, { addFloatingIp: { address: fip.ip, fixed_address: fixed[0] } })).status, 202);
      const other = await allocate();
      const taken = await act(id, { addFloatingIp: { address: other.ip, fixed_address: fixed[0] } });
      assert.equal(taken.status, 400);
      assert.match(taken.body.badRequest.message, /as that fixed IP already has a floating IP on external network/);
      const unknown = await act(id, { addFloatingIp: { address: '172.24.4.250' } });
      assert.deepEqual(unknown.body, { itemNotFound: { code: 404, message: 'floating IP not found' } });
      const unknownRemove = await act(id, { removeFloatingIp: { address: '172.24.4.250' } });
      assert.deepEqual(unknownRemove.body, { itemNotFound: { code: 404, message: 'Floating IP not found for address 172.24.4.250.' } });
      const alts = await allocate('alt_demo');
      assert.equal((await act(id, { addFloatingIp: { address: alts.ip } })).status, 404, "another project's floating IP is not found");
    });

    it('needs the server to have addresses (400)', async () => {
      const id = await boot(cloud, { version: '2.37', extra: { networks: 'none' } });
      const fip = await allocate();
      const res = await act(id, { addFloatingIp: { address: fip.ip } });
      assert.deepEqual(res.body, { badRequest: { code: 400, message: 'Instance network is not ready yet' } });
    });

    it('exists only up to 2.43 (404 from 2.44), validates bodies, is not lock-checked', async () => {
      const id = await boot(cloud);
      const fip = await allocate();
      assert.equal((await act(id, { addFloatingIp: { address: fip.ip } }, 'demo', '2.44')).status, 404);
      assert.equal((await act(id, { removeFloatingIp: { address: fip.ip } }, 'demo', '2.44')).status, 404);
      for (const body of [
        { addFloatingIp: {} },
        { addFloatingIp: { address: 'not-an-ip' } },
        { addFloatingIp: { address: fip.ip, fixed_address: 'x' } },
        { addFloatingIp: { address: fip.ip, more: 1 } },
        { addFloatingIp: null },
        { removeFloatingIp: { address: 7 } },
      ]) {
        assert.equal((await act(id, body)).status, 400, JSON.stringify(body));
      }
      const bad = await act(id, { addFloatingIp: { address: 'not-an-ip' } });
      assert.equal(bad.body.badRequest.message, "Invalid input for field/attribute address. Value: not-an-ip. 'not-an-ip' is not valid under any of the given schemas");
      assert.equal((await act(id, { lock: null })).status, 202);
      assert.equal((await act(id, { addFloatingIp: { address: fip.ip } }, 'demo', '2.43')).status, 202);
      assert.equal((await act(id, { addFloatingIp: { address: fip.ip } }, 'alt_demo')).status, 404);
    });

    it('releases a floating IP (202) and returns its address to the pool', async () => {
      const id = await boot(cloud);
      const fip = await allocate();
      assert.equal((await act(id, { addFloatingIp: { address: fip.ip } })).status, 202);
      const del = await cloud.request({ method: 'DELETE', url: `/compute/v2.1/os-floating-ips/${fip.id}` });
      assert.equal(del.status, 202);
      assert.equal((await show(id)).addresses.private.length, 2, 'unbound from the server');
      assert.equal((await cloud.request({ method: 'DELETE', url: `/compute/v2.1/os-floating-ips/${fip.id}` })).status, 404);
    });
  });

  describe('fixed IPs (os-multinic)', () => {
    it('adds a fixed IP on the server\'s network through its host, then removes it', async () => {
      const id = await boot(cloud);
      const net = (await cloud.db.selectFrom('networks').select('id').where('name', '=', 'private').executeTakeFirstOrThrow()).id;
      const before = fixedOf(await show(id));
      const add = await act(id, { addFixedIp: { networkId: net } });
      assert.equal(add.status, 202);
      assert.equal(add.text, '');
      await cloud.settle();
      const after = fixedOf(await show(id));
      assert.equal(after.length, before.length + 1);
      const added = after.find((a) => !before.includes(a)) ?? '';
      assert.match(added, /^10\.0\./);
      assert.equal((await act(id, { removeFixedIp: { address: added } })).status, 202);
      await cloud.settle();
      assert.deepEqual(fixedOf(await show(id)), before);
    });

    it('reports an unknown network or address only as an instance fault (202), as Nova does', async () => {
      const id = await boot(cloud);
      assert.equal((await act(id, { addFixedIp: { networkId: 'nope' } })).status, 202);
      await cloud.settle();
      let fault = await cloud.db.selectFrom('instance_faults').selectAll().where('instance_uuid', '=', id).orderBy('id', 'desc').executeTakeFirstOrThrow();
      assert.equal(fault.code, 404);
      assert.equal(fault.message, `Network could not be found for instance ${id}.`);
      assert.equal((await act(id, { removeFixedIp: { address: '10.99.0.1' } })).status, 202);
      await cloud.settle();
      fault = await cloud.db.selectFrom('instance_faults').selectAll().where('instance_uuid', '=', id).orderBy('id', 'desc').executeTakeFirstOrThrow();
      assert.equal(fault.message, `Instance ${id} does not have fixed IP '10.99.0.1'.`);
      assert.equal((await show(id)).status, 'ACTIVE');
    });

    it('is lock-checked (409 for members, admins pass), needs a host, exists up to 2.43', async () => {
      const id = await boot(cloud);
      const net = (await cloud.db.selectFrom('networks').select('id').where('name', '=', 'private').executeTakeFirstOrThrow()).id;
      assert.equal((await act(id, { addFixedIp: { networkId: net } }, 'demo', '2.44')).status, 404);
      assert.equal((await act(id, { lock: null })).status, 202);
      const locked = await act(id, { addFixedIp: { networkId: net } });
      assert.deepEqual(locked.body, { conflictingRequest: { code: 409, message: `Instance ${id} is locked` } });
      assert.equal((await act(id, { addFixedIp: { networkId: net } }, 'admin')).status, 202);
      await cloud.settle();
      assert.equal((await act(id, { removeFixedIp: { address: 'x' } })).status, 400);
      assert.equal((await act(id, { addFixedIp: {} })).status, 400);
      assert.equal((await act(id, { addFixedIp: { networkId: '' } })).status, 400);
      assert.equal((await act(id, { addFixedIp: { networkId: net } }, 'alt_demo')).status, 404);
    });

    it('a driver failure while pushing the configuration is recorded as a fault', async () => {
      const id = await boot(cloud);
      const host = (await show(id, 'admin'))['OS-EXT-SRV-ATTR:host'] as string;
      cloud.compute.drivers.get(host)?.failNext('injectNetworkInfo', { uuid: id, message: 'guest agent unreachable' });
      const net = (await cloud.db.selectFrom('networks').select('id').where('name', '=', 'private').executeTakeFirstOrThrow()).id;
      assert.equal((await act(id, { addFixedIp: { networkId: net } })).status, 202);
      await cloud.settle();
      const fault = await cloud.db.selectFrom('instance_faults').selectAll().where('instance_uuid', '=', id).orderBy('id', 'desc').executeTakeFirstOrThrow();
      assert.equal(fault.code, 500);
      assert.equal(fault.message, 'guest agent unreachable');
      assert.equal((await show(id)).status, 'ACTIVE');
    });
  });
});
