import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import Fastify, { type FastifyInstance } from 'fastify';
import { startTestCloud, type TestCloud } from '../../helpers/cloud.js';
import { boot } from '../../helpers/servers.js';
import { consoleProxy } from '../../../src/compute/consoles/proxy.js';

type Who = 'demo' | 'admin' | 'alt_demo';
const GENERIC_400 = 'The server could not comply with the request since it is either malformed or otherwise incorrect.';

describe('consoles: os-getConsoleOutput, remote consoles, console auth tokens', () => {
  let cloud: TestCloud;
  /** The console pages, as src/app.ts mounts them under /compute/console. */
  let pages: FastifyInstance;
  before(async () => {
    cloud = await startTestCloud({ quotas: { instances: -1, cores: -1, ram: -1 } });
    pages = Fastify();
    await pages.register(consoleProxy({ db: cloud.db, clock: cloud.clock }), { prefix: '/compute/console' });
  });
  after(async () => {
    await pages.close();
    await cloud.close();
  });
  const act = (id: string, body: unknown, as: Who = 'demo', version?: string) =>
    cloud.request({ method: 'POST', url: `/compute/v2.1/servers/${id}/action`, as, body, ...(version ? { version } : {}) });
  const remote = (id: string, body: unknown, version = '2.6', as: Who = 'demo') =>
    cloud.request({ method: 'POST', url: `/compute/v2.1/servers/${id}/remote-consoles`, as, body, version });
  const tokenInfo = (token: string, version = '2.31', as: Who = 'admin') =>
    cloud.request({ url: `/compute/v2.1/os-console-auth-tokens/${encodeURIComponent(token)}`, as, version });
  const driverOf = async (id: string) => (await cloud.request({ url: `/compute/v2.1/servers/${id}`, as: 'admin' })).body.server['OS-EXT-SRV-ATTR:host'] as string;
  /** The token inside a console URL. */
  const tokenOf = (url: string): string => {
    const u = new URL(url.replace(/^ws/, 'http'));
    const direct = u.searchParams.get('token');
    if (direct) return direct;
    return new URLSearchParams((u.searchParams.get('path') ?? '').replace(/^\?/, '')).get('token') ?? '';
  };
  const openPage = (url: string) => {
    const u = new URL(url.replace(/^ws/, 'http'));
    return pages.inject({ method: 'GET', url: `${u.pathname}${u.search}` });
  };
  const failedBuild = async (): Promise<string> => {
    for (const d of cloud.compute.drivers.values()) d.failNext('spawn', { message: 'no luck' });
    const id = await boot(cloud);
    for (const d of cloud.compute.drivers.values()) d.clearFailures();
    return id;
  };

  describe('os-getConsoleOutput', () => {
    it('returns the console log, tailed as Nova tails it', async () => {
      const id = await boot(cloud);
      const all = await act(id, { 'os-getConsoleOutput': {} });
      assert.equal(all.status, 200);
      const lines = (all.body.output as string).split('\n');
      assert.ok(lines.length >= 4, all.body.output);
      assert.match(all.body.output, /login: \n$/);
      assert.equal((await act(id, { 'os-getConsoleOutput': { length: null } })).body.output, all.body.output);
      assert.equal((await act(id, { 'os-getConsoleOutput': { length: 2 } })).body.output, lines.slice(-2).join('\n'));
      assert.equal((await act(id, { 'os-getConsoleOutput': { length: '3' } })).body.output, lines.slice(-3).join('\n'));
      assert.equal((await act(id, { 'os-getConsoleOutput': { length: 0 } })).body.output, '');
      assert.equal((await act(id, { 'os-getConsoleOutput': { length: -1 } })).body.output, lines.slice(1).join('\n'), 'Nova: [-(-1):] drops the first line');
      assert.equal((await act(id, { 'os-getConsoleOutput': { length: 1000 } })).body.output, all.body.output);
    });

    it('validates the body (400), hides other projects (404), is not lock-checked', async () => {
      const id = await boot(cloud);
      for (const body of [
        { 'os-getConsoleOutput': { length: 'abc' } },
        { 'os-getConsoleOutput': { length: -2 } },
        { 'os-getConsoleOutput': { length: '-2' } },
        { 'os-getConsoleOutput': { length: 1.5 } },
        { 'os-getConsoleOutput': { other: 1 } },
        { 'os-getConsoleOutput': null },
      ]) {
        assert.equal((await act(id, body)).status, 400, JSON.stringify(body));
      }
      const low = await act(id, { 'os-getConsoleOutput': { length: -2 } });
      assert.equal(low.body.badRequest.message, 'Invalid input for field/attribute length. Value: -2. -2 is less than the minimum of -1');
      assert.equal((await act(id, { 'os-getConsoleOutput': {} }, 'alt_demo')).status, 404);
      assert.equal((await act(id, { lock: null })).status, 202);
      assert.equal((await act(id, { 'os-getConsoleOutput': {} })).status, 200);
      assert.equal((await act(id, { 'os-getConsoleOutput': {} }, 'admin')).status, 200);
    });

    it('needs a host (409 not ready)', async () => {
      const id = await failedBuild();
      const res = await act(id, { 'os-getConsoleOutput': {} });
      assert.deepEqual(res.body, { conflictingRequest: { code: 409, message: `Instance ${id} is not ready` } });
    });
  });

  describe('POST /servers/{id}/remote-consoles (2.6+)', () => {
    it('hands out a noVNC URL whose token Stratus validates', async () => {
      const id = await boot(cloud);
      const res = await remote(id, { remote_console: { protocol: 'vnc', type: 'novnc' } });
      assert.equal(res.status, 200, res.text);
      const rc = res.body.remote_console;
      assert.equal(rc.protocol, 'vnc');
      assert.equal(rc.type, 'novnc');
      assert.match(rc.url, /^http:\/\/[^/]+\/compute\/console\/novnc\/vnc_auto\.html\?path=%3Ftoken%3D[0-9a-f-]{36}$/);
      const token = tokenOf(rc.url);
      const page = await openPage(rc.url);
      assert.equal(page.statusCode, 200);
      assert.match(page.body, new RegExp(id));
      const info = await tokenInfo(token);
      assert.equal(info.status, 200);
      assert.deepEqual(Object.keys(info.body.console), ['instance_uuid', 'host', 'port', 'internal_access_path']);
      assert.equal(info.body.console.instance_uuid, id);
      assert.equal(typeof info.body.console.port, 'number');
      const stored = await cloud.db.selectFrom('console_auth_tokens').selectAll().execute();
      assert.ok(stored.every((r) => r.token_hash !== token), 'only the hash is stored');
    });

    it('serves spice-html5, serial, webmks (2.8) and spice-direct (2.99) consoles', async () => {
      const id = await boot(cloud);
      const spice = await remote(id, { remote_console: { protocol: 'spice', type: 'spice-html5' } });
      assert.match(spice.body.remote_console.url, /\/compute\/console\/spice\/spice_auto\.html\?token=/);
      assert.equal((await openPage(spice.body.remote_console.url)).statusCode, 200);
      const serial = await remote(id, { remote_console: { protocol: 'serial', type: 'serial' } });
      assert.match(serial.body.remote_console.url, /^ws:\/\/[^/]+\/compute\/console\/serial\/\?token=/);
      assert.equal((await openPage(serial.body.remote_console.url)).statusCode, 200);
      assert.equal((await remote(id, { remote_console: { protocol: 'mks', type: 'webmks' } }, '2.7')).status, 400, 'mks arrives in 2.8');
      const mks = await remote(id, { remote_console: { protocol: 'mks', type: 'webmks' } }, '2.8');
      assert.equal(mks.status, 200);
      assert.deepEqual(Object.keys(mks.body.remote_console), ['protocol', 'type', 'url']);
      assert.equal((await remote(id, { remote_console: { protocol: 'spice', type: 'spice-direct' } }, '2.98')).status, 400, 'spice-direct arrives in 2.99');
      const direct = await remote(id, { remote_console: { protocol: 'spice', type: 'spice-direct' } }, '2.99');
      assert.equal(direct.status, 200);
      const token = tokenOf(direct.body.remote_console.url);
      assert.equal(typeof (await tokenInfo(token, '2.99')).body.console.tls_port, 'number');
      assert.equal((await tokenInfo(token, '2.98')).body.console.tls_port, undefined);
    });

    it('refuses wrong and removed console types (400)', async () => {
      const id = await boot(cloud);
      const rdp = await remote(id, { remote_console: { protocol: 'rdp', type: 'rdp-html5' } });
      assert.deepEqual(rdp.body, { badRequest: { code: 400, message: GENERIC_400 } });
      const xvp = await remote(id, { remote_console: { protocol: 'vnc', type: 'xvpvnc' } });
      assert.deepEqual(xvp.body, { badRequest: { code: 400, message: 'Invalid console type xvpvnc' } });
      const mismatch = await remote(id, { remote_console: { protocol: 'vnc', type: 'spice-html5' } });
      assert.deepEqual(mismatch.body, { badRequest: { code: 400, message: 'Invalid console type spice-html5' } });
      for (const body of [{}, { remote_console: {} }, { remote_console: { protocol: 'vnc' } }, { remote_console: { protocol: 'x', type: 'novnc' } }, { remote_console: { protocol: 'vnc', type: 'novnc', x: 1 } }]) {
        assert.equal((await remote(id, body)).status, 400, JSON.stringify(body));
      }
      assert.equal((await remote(id, { remote_console: { protocol: 'vnc', type: 'novnc' } }, '2.5')).status, 404, 'the API starts at 2.6');
    });

    it('hides other projects (404), lets admins in, is not lock-checked', async () => {
      const id = await boot(cloud);
      const body = { remote_console: { protocol: 'vnc', type: 'novnc' } };
      assert.equal((await remote(id, body, '2.6', 'alt_demo')).status, 404);
      assert.equal((await remote(id, body, '2.6', 'admin')).status, 200);
      assert.equal((await act(id, { lock: null })).status, 202);
      assert.equal((await remote(id, body)).status, 200);
    });

    it('needs a host (409) and refuses a server being deleted (409)', async () => {
      const noHost = await failedBuild();
      const res = await remote(noHost, { remote_console: { protocol: 'vnc', type: 'novnc' } });
      assert.deepEqual(res.body, { conflictingRequest: { code: 409, message: `Instance ${noHost} is not ready` } });
      const slow = await startTestCloud({ compute: { timing: 'visible', step_ms: 1000 } });
      try {
        const id = await boot(slow);
        assert.equal((await slow.request({ method: 'DELETE', url: `/compute/v2.1/servers/${id}` })).status, 204);
        const during = await slow.request({ method: 'POST', url: `/compute/v2.1/servers/${id}/remote-consoles`, version: '2.6', body: { remote_console: { protocol: 'vnc', type: 'novnc' } } });
        assert.deepEqual(during.body, { conflictingRequest: { code: 409, message: `Cannot 'get_vnc_console' instance ${id} while it is in task_state deleting` } });
        await slow.settle();
      } finally {
        await slow.close();
      }
    });

    it('a driver failure is a 500 and an instance fault', async () => {
      const id = await boot(cloud);
      cloud.compute.drivers.get(await driverOf(id))?.failNext('consoleEndpoint', { uuid: id, message: 'vnc server down' });
      const res = await remote(id, { remote_console: { protocol: 'vnc', type: 'novnc' } });
      assert.equal(res.status, 500);
      const fault = await cloud.db.selectFrom('instance_faults').selectAll().where('instance_uuid', '=', id).executeTakeFirstOrThrow();
      assert.equal(fault.message, 'vnc server down');
    });
  });

  describe('legacy console actions (up to 2.5)', () => {
    it('os-getVNCConsole / os-getSPICEConsole / os-getSerialConsole answer {"console": {type, url}}', async () => {
      const id = await boot(cloud);
      const vnc = await act(id, { 'os-getVNCConsole': { type: 'novnc' } });
      assert.equal(vnc.status, 200);
      assert.deepEqual(Object.keys(vnc.body.console), ['type', 'url']);
      assert.equal(vnc.body.console.type, 'novnc');
      assert.equal((await openPage(vnc.body.console.url)).statusCode, 200);
      assert.equal((await act(id, { 'os-getSPICEConsole': { type: 'spice-html5' } })).body.console.type, 'spice-html5');
      assert.equal((await act(id, { 'os-getSerialConsole': { type: 'serial' } })).body.console.type, 'serial');
      assert.equal((await act(id, { 'os-getVNCConsole': { type: 'novnc' } }, 'demo', '2.6')).status, 404);
      assert.equal((await act(id, { 'os-getVNCConsole': { type: 'spice-html5' } })).status, 400);
      assert.equal((await act(id, { 'os-getVNCConsole': {} })).status, 400);
      const xvp = await act(id, { 'os-getVNCConsole': { type: 'xvpvnc' } });
      assert.deepEqual(xvp.body, { badRequest: { code: 400, message: 'Invalid console type xvpvnc' } });
      const rdp = await act(id, { 'os-getRDPConsole': { type: 'rdp-html5' } });
      assert.deepEqual(rdp.body, { badRequest: { code: 400, message: GENERIC_400 } });
      assert.equal((await act(id, { 'os-getVNCConsole': { type: 'novnc' } }, 'alt_demo')).status, 404);
    });
  });

  describe('tokens: GET /os-console-auth-tokens/{token} and the console pages', () => {
    it('is admin-only from 2.31 (400 before), 404 for unknown tokens', async () => {
      const id = await boot(cloud);
      const url = (await remote(id, { remote_console: { protocol: 'vnc', type: 'novnc' } })).body.remote_console.url as string;
      const token = tokenOf(url);
      assert.deepEqual((await tokenInfo(token, '2.30')).body, { badRequest: { code: 400, message: GENERIC_400 } });
      const member = await tokenInfo(token, '2.31', 'demo');
      assert.deepEqual(member.body, { forbidden: { code: 403, message: "Policy doesn't allow os_compute_api:os-console-auth-tokens to be performed." } });
      assert.deepEqual((await tokenInfo('no-such-token')).body, { itemNotFound: { code: 404, message: 'Token not found' } });
      assert.equal((await cloud.request({ url: `/compute/v2.1/os-console-auth-tokens/${token}?x=1`, as: 'admin', version: '2.99' })).status, 400);
    });

    it('pages refuse bad, foreign-type and expired tokens (401), unknown consoles (404)', async () => {
      const id = await boot(cloud);
      const url = (await remote(id, { remote_console: { protocol: 'vnc', type: 'novnc' } })).body.remote_console.url as string;
      const token = tokenOf(url);
      assert.equal((await pages.inject({ url: '/compute/console/novnc/vnc_auto.html?path=%3Ftoken%3Dnope' })).statusCode, 401);
      assert.equal((await pages.inject({ url: '/compute/console/novnc/vnc_auto.html' })).statusCode, 401);
      assert.equal((await pages.inject({ url: `/compute/console/spice/spice_auto.html?token=${token}` })).statusCode, 401, 'a VNC token does not open a SPICE console');
      assert.equal((await pages.inject({ url: `/compute/console/rdp?token=${token}` })).statusCode, 404);
      assert.equal((await pages.inject({ url: `/compute/console/novnc/vnc_auto.html?token=${token}` })).statusCode, 200);
      await cloud.clock.advance(601_000);
      assert.equal((await openPage(url)).statusCode, 401, 'expired after token_ttl (600 s)');
      assert.equal((await tokenInfo(token)).status, 404);
    });

    it('a deleted server\'s tokens stop working', async () => {
      const id = await boot(cloud);
      const url = (await remote(id, { remote_console: { protocol: 'vnc', type: 'novnc' } })).body.remote_console.url as string;
      assert.equal((await cloud.request({ method: 'DELETE', url: `/compute/v2.1/servers/${id}` })).status, 204);
      await cloud.settle();
      assert.equal((await openPage(url)).statusCode, 401);
      assert.equal((await tokenInfo(tokenOf(url))).status, 404);
    });
  });
});
