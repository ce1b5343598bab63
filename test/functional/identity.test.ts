import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestCloud, type TestCloud, type TestResponse } from '../helpers/cloud.js';
import type { FakeClock } from '../../src/lib/clock.js';

const PASSWORDS = { admin: 'stratus-admin', demo: 'stratus-demo', alt_demo: 'stratus-alt' };
const HOST = 'localhost:80';

function passwordAuth(user: Record<string, unknown>, scope?: unknown): Record<string, unknown> {
  return { auth: { identity: { methods: ['password'], password: { user } }, ...(scope !== undefined ? { scope } : {}) } };
}

describe('identity: version discovery and authentication', () => {
  let cloud: TestCloud;
  const login = (body: unknown, url = '/identity/v3/auth/tokens'): Promise<TestResponse> =>
    cloud.request({ method: 'POST', url, as: null, body, headers: { host: HOST } });
  const demoByName = (scope?: unknown) =>
    login(passwordAuth({ name: 'demo', domain: { name: 'Default' }, password: PASSWORDS.demo }, scope));

  before(async () => {
    cloud = await startTestCloud();
  });
  after(async () => {
    await cloud.close();
  });

  it('serves version discovery at /identity/ (300) and /identity/v3 (200)', async () => {
    const res = await cloud.request({ url: '/identity/', as: null, headers: { host: 'cloud.example:5000' } });
    assert.equal(res.status, 300);
    const v = res.body.versions.values[0];
    assert.equal(v.id, 'v3.14');
    assert.equal(v.status, 'stable');
    assert.deepEqual(v.links, [{ rel: 'self', href: 'http://cloud.example:5000/identity/v3/' }]);
    assert.deepEqual(v['media-types'], [{ base: 'application/json', type: 'application/vnd.openstack.identity-v3+json' }]);
    const v3 = await cloud.request({ url: '/identity/v3', as: null, headers: { host: 'cloud.example:5000' } });
    assert.equal(v3.status, 200);
    assert.equal(v3.body.version.id, 'v3.14');
    const slash = await cloud.request({ url: '/identity/v3/', as: null });
    assert.equal(slash.status, 200);
  });

  it('authenticates by user name and domain name, scoped to a project by name and domain name', async () => {
    const res = await demoByName({ project: { name: 'demo', domain: { name: 'Default' } } });
    assert.equal(res.status, 201);
    const subject = res.headers['x-subject-token'];
    assert.equal(typeof subject, 'string');
    assert.match(String(subject), /^gAAAAA[\w-]{40,}$/);
    assert.match(String(res.headers.vary), /X-Auth-Token/i);
    const t = res.body.token;
    assert.deepEqual(t.methods, ['password']);
    assert.equal(t.user.name, 'demo');
    assert.deepEqual(t.user.domain, { id: 'default', name: 'Default' });
    assert.equal(t.user.password_expires_at, null);
    assert.match(t.user.id, /^[0-9a-f]{32}$/);
    assert.equal(t.project.name, 'demo');
    assert.match(t.project.id, /^[0-9a-f]{32}$/);
    assert.deepEqual(t.project.domain, { id: 'default', name: 'Default' });
    assert.equal(t.is_domain, false);
    assert.match(t.expires_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000000Z$/);
    assert.match(t.issued_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000000Z$/);
    assert.equal(Date.parse(t.expires_at) - Date.parse(t.issued_at), 3600 * 1000);
    assert.equal(t.audit_ids.length, 1);
    assert.match(t.audit_ids[0], /^[\w-]{22}$/);
    // Implied roles: member brings reader.
    assert.deepEqual(t.roles.map((r: { name: string }) => r.name).sort(), ['member', 'reader']);
    for (const r of t.roles) assert.match(r.id, /^[0-9a-f]{32}$/);
  });

  it('includes the catalog, DevStack style, unless nocatalog', async () => {
    const res = await demoByName({ project: { name: 'demo', domain: { id: 'default' } } });
    const catalog = res.body.token.catalog as { type: string; name: string; id: string; endpoints: Record<string, string>[] }[];
    const byType = Object.fromEntries(catalog.map((s) => [s.type, s]));
    assert.deepEqual(Object.keys(byType).sort(), ['compute', 'identity', 'image']);
    assert.equal(byType.compute?.name, 'nova');
    assert.equal(byType.image?.name, 'glance');
    assert.equal(byType.identity?.name, 'keystone');
    const compute = byType.compute;
    assert.ok(compute);
    assert.deepEqual(compute.endpoints.map((e) => e.interface).sort(), ['admin', 'internal', 'public']);
    for (const e of compute.endpoints) {
      assert.deepEqual(Object.keys(e).sort(), ['id', 'interface', 'region', 'region_id', 'url']);
      assert.equal(e.url, 'http://localhost:80/compute/v2.1');
      assert.equal(e.region, 'RegionOne');
      assert.equal(e.region_id, 'RegionOne');
    }
    assert.equal(byType.image?.endpoints[0]?.url, 'http://localhost:80/image');
    assert.equal(byType.identity?.endpoints[0]?.url, 'http://localhost:80/identity');

    const bare = await login(passwordAuth({ name: 'demo', domain: { id: 'default' }, password: PASSWORDS.demo }, { project: { name: 'demo', domain: { id: 'default' } } }), '/identity/v3/auth/tokens?nocatalog');
    assert.equal(bare.status, 201);
    assert.equal(bare.body.token.catalog, undefined);
    assert.ok(bare.body.token.roles);
  });

  it('authenticates by user id and scopes to a project by id', async () => {
    const demo = cloud.identity.accounts.find((a) => a.username === 'demo');
    assert.ok(demo);
    const res = await login(passwordAuth({ id: demo.userId, password: PASSWORDS.demo }, { project: { id: demo.projectId } }));
    assert.equal(res.status, 201);
    assert.equal(res.body.token.user.id, demo.userId);
    assert.equal(res.body.token.project.id, demo.projectId);
  });

  it('gives admin admin, member and reader', async () => {
    const res = await login(passwordAuth({ name: 'admin', domain: { id: 'default' }, password: PASSWORDS.admin }, { project: { name: 'admin', domain: { id: 'default' } } }));
    assert.equal(res.status, 201);
    assert.deepEqual(res.body.token.roles.map((r: { name: string }) => r.name).sort(), ['admin', 'member', 'reader']);
  });

  it('issues an unscoped token without roles or catalog', async () => {
    const res = await demoByName();
    assert.equal(res.status, 201);
    const t = res.body.token;
    assert.equal(t.project, undefined);
    assert.equal(t.roles, undefined);
    assert.equal(t.catalog, undefined);
    assert.deepEqual(Object.keys(t).sort(), ['audit_ids', 'expires_at', 'issued_at', 'methods', 'user']);
    const ctx = await cloud.identity.tokens.contextFor(String(res.headers['x-subject-token']), 'req-1');
    assert.ok(ctx);
    assert.equal(ctx.projectId, null);
    assert.deepEqual(ctx.roles, []);
    assert.equal(ctx.isAdmin, false);
    // The catalog needs a scope.
    const cat = await cloud.request({ url: '/identity/v3/auth/catalog', as: { token: String(res.headers['x-subject-token']) } });
    assert.equal(cat.status, 403);
    // auth/projects lists what it could be scoped to.
    const projects = await cloud.request({ url: '/identity/v3/auth/projects', as: { token: String(res.headers['x-subject-token']) } });
    assert.equal(projects.status, 200);
    assert.deepEqual(projects.body.projects.map((p: { name: string }) => p.name), ['demo']);
  });

  it('rescopes with the token method, keeping expiry and the audit chain', async () => {
    const unscoped = await demoByName();
    const parent = String(unscoped.headers['x-subject-token']);
    const res = await login({ auth: { identity: { methods: ['token'], token: { id: parent } }, scope: { project: { name: 'demo', domain: { id: 'default' } } } } });
    assert.equal(res.status, 201);
    const t = res.body.token;
    assert.deepEqual(t.methods, ['password', 'token']);
    assert.equal(t.project.name, 'demo');
    assert.equal(t.expires_at, unscoped.body.token.expires_at);
    assert.equal(t.audit_ids.length, 2);
    assert.equal(t.audit_ids[1], unscoped.body.token.audit_ids[0]);
    assert.notEqual(res.headers['x-subject-token'], parent);
    // The demo user has no role on alt_demo.
    const denied = await login({ auth: { identity: { methods: ['token'], token: { id: parent } }, scope: { project: { name: 'alt_demo', domain: { id: 'default' } } } } });
    assert.equal(denied.status, 401);
  });

  it('answers bad credentials with Keystone\'s 401', async () => {
    const expected = { error: { code: 401, message: 'The request you have made requires authentication.', title: 'Unauthorized' } };
    for (const body of [
      passwordAuth({ name: 'demo', domain: { name: 'Default' }, password: 'wrong' }),
      passwordAuth({ name: 'nobody', domain: { name: 'Default' }, password: 'x' }),
      passwordAuth({ name: 'demo', domain: { name: 'NoSuchDomain' }, password: PASSWORDS.demo }),
      passwordAuth({ id: 'f'.repeat(32), password: 'x' }),
      passwordAuth({ name: 'demo', domain: { name: 'Default' }, password: PASSWORDS.demo }, { project: { id: 'nope' } }),
      passwordAuth({ name: 'demo', domain: { name: 'Default' }, password: PASSWORDS.demo }, { project: { name: 'alt_demo', domain: { id: 'default' } } }),
      passwordAuth({ name: 'demo', domain: { name: 'Default' }, password: PASSWORDS.demo }, { system: { all: true } }),
      { auth: { identity: { methods: ['token'], token: { id: 'gAAAAAbogus' } } } },
      { auth: { identity: { methods: ['totp'], totp: {} } } },
    ]) {
      const res = await login(body);
      assert.equal(res.status, 401, JSON.stringify(body));
      assert.deepEqual(res.body, expected);
      assert.equal(res.headers['www-authenticate'], 'Keystone uri="http://localhost:80/identity"');
    }
  });

  it('answers malformed requests with Keystone\'s 400', async () => {
    for (const body of [
      {},
      { auth: {} },
      { auth: { identity: {} } },
      { auth: { identity: { methods: 'password' } } },
      { auth: { identity: { methods: ['password'] } } },
      { auth: { identity: { methods: ['password'], password: {} } } },
      passwordAuth({ name: 'demo', password: 'x' }),
      passwordAuth({ name: 'demo', domain: { name: 'Default' }, password: PASSWORDS.demo }, { project: { name: 'demo' } }),
      passwordAuth({ name: 'demo', domain: { name: 'Default' }, password: PASSWORDS.demo }, { project: { id: 'x' }, domain: { id: 'default' } }),
      '{"auth": ',
      '[]',
    ]) {
      const res = await login(body);
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.equal(res.body.error.code, 400);
      assert.equal(res.body.error.title, 'Bad Request');
      assert.equal(typeof res.body.error.message, 'string');
    }
    const empty = await cloud.request({ method: 'POST', url: '/identity/v3/auth/tokens', as: null, headers: { 'content-type': 'application/json' } });
    assert.equal(empty.status, 400);
  });

  it('answers unknown identity paths with Keystone\'s 404', async () => {
    const res = await cloud.request({ url: '/identity/v3/nothing-here', as: 'admin' });
    assert.equal(res.status, 404);
    assert.deepEqual(res.body, { error: { code: 404, message: 'The resource could not be found.', title: 'Not Found' } });
  });

  it('validates tokens with GET and HEAD, and revokes them with DELETE', async () => {
    const login1 = await demoByName({ project: { name: 'demo', domain: { id: 'default' } } });
    const subject = String(login1.headers['x-subject-token']);
    // A user validates their own token.
    const own = await cloud.request({ url: '/identity/v3/auth/tokens', as: { token: subject }, headers: { 'x-subject-token': subject } });
    assert.equal(own.status, 200);
    assert.equal(own.headers['x-subject-token'], subject);
    assert.equal(own.body.token.user.name, 'demo');
    assert.ok(Array.isArray(own.body.token.catalog));
    // Admin validates anyone's, HEAD has no body.
    const head = await cloud.request({ method: 'HEAD', url: '/identity/v3/auth/tokens', as: 'admin', headers: { 'x-subject-token': subject } });
    assert.equal(head.status, 200);
    assert.equal(head.text, '');
    // Another non-admin user may not.
    const other = await cloud.request({ url: '/identity/v3/auth/tokens', as: 'alt_demo', headers: { 'x-subject-token': subject } });
    assert.equal(other.status, 403);
    assert.equal(other.body.error.title, 'Forbidden');
    // Without a valid caller token: 401.
    const anon = await cloud.request({ url: '/identity/v3/auth/tokens', as: null, headers: { 'x-subject-token': subject } });
    assert.equal(anon.status, 401);
    // Unknown subject: 404.
    const unknown = await cloud.request({ url: '/identity/v3/auth/tokens', as: 'admin', headers: { 'x-subject-token': 'gAAAAAnope' } });
    assert.equal(unknown.status, 404);
    assert.deepEqual(unknown.body, { error: { code: 404, message: 'Failed to validate token', title: 'Not Found' } });

    assert.ok(await cloud.identity.tokens.contextFor(subject, 'r'));
    const del = await cloud.request({ method: 'DELETE', url: '/identity/v3/auth/tokens', as: { token: subject }, headers: { 'x-subject-token': subject } });
    assert.equal(del.status, 204);
    const after = await cloud.request({ url: '/identity/v3/auth/tokens', as: 'admin', headers: { 'x-subject-token': subject } });
    assert.equal(after.status, 404);
    // Revoked tokens are refused everywhere, including by the compute edge's validator.
    assert.equal(await cloud.identity.tokens.contextFor(subject, 'r'), null);
    const again = await cloud.request({ url: '/identity/v3/auth/projects', as: { token: subject } });
    assert.equal(again.status, 401);
  });

  it('serves the catalog, projects and domains of the caller', async () => {
    const cat = await cloud.request({ url: '/identity/v3/auth/catalog', headers: { host: HOST } });
    assert.equal(cat.status, 200);
    assert.equal(cat.body.catalog.length, 3);
    assert.equal(cat.body.links.self, 'http://localhost:80/identity/v3/auth/catalog');
    const projects = await cloud.request({ url: '/identity/v3/auth/projects', as: 'alt_demo' });
    assert.deepEqual(projects.body.projects.map((p: { name: string }) => p.name), ['alt_demo']);
    assert.deepEqual(projects.body.links.previous, null);
    const domains = await cloud.request({ url: '/identity/v3/auth/domains' });
    assert.equal(domains.status, 200);
    assert.deepEqual(domains.body.domains, []);
  });
});

describe('identity: RequestContext for the other services', () => {
  let cloud: TestCloud;
  before(async () => {
    cloud = await startTestCloud();
  });
  after(async () => {
    await cloud.close();
  });

  it('maps seeded tokens to contexts', async () => {
    const demo = await cloud.identity.tokens.contextFor(cloud.tokens.demo, 'req-abc');
    const account = cloud.identity.accounts.find((a) => a.username === 'demo');
    assert.ok(demo && account);
    assert.deepEqual(demo, {
      requestId: 'req-abc',
      userId: account.userId,
      userName: 'demo',
      userDomainId: 'default',
      projectId: account.projectId,
      projectName: 'demo',
      projectDomainId: 'default',
      roles: ['member', 'reader'],
      isAdmin: false,
    });
    const admin = await cloud.identity.tokens.contextFor(cloud.tokens.admin, 'req-def');
    assert.ok(admin);
    assert.equal(admin.isAdmin, true);
    assert.deepEqual(admin.roles, ['admin', 'member', 'reader']);
    assert.equal(admin.requestId, 'req-def');
    assert.equal(await cloud.identity.tokens.contextFor(undefined, 'r'), null);
    assert.equal(await cloud.identity.tokens.contextFor('', 'r'), null);
    assert.equal(await cloud.identity.tokens.contextFor('garbage', 'r'), null);
  });

  it('has the compute edge refuse a revoked token with 401', async () => {
    const token = await cloud.identity.issueToken('demo');
    const before = await cloud.request({ url: '/compute/v2.1/servers', as: { token } });
    assert.equal(before.status, 200);
    await cloud.identity.revokeToken(token);
    const after = await cloud.request({ url: '/compute/v2.1/servers', as: { token } });
    assert.equal(after.status, 401);
    assert.deepEqual(Object.keys(after.body), ['error']);
  });

  it('lists the seeded accounts for clouds.yaml', () => {
    assert.deepEqual(
      cloud.identity.accounts.map((a) => [a.cloud, a.username, a.projectName]),
      [
        ['stratus-admin', 'admin', 'admin'],
        ['stratus-demo', 'demo', 'demo'],
        ['stratus-alt_demo', 'alt_demo', 'alt_demo'],
      ],
    );
    for (const a of cloud.identity.accounts) {
      assert.match(a.userId, /^[0-9a-f]{32}$/);
      assert.match(a.projectId, /^[0-9a-f]{32}$/);
    }
  });

  it('reflects role changes at once', async () => {
    const token = await cloud.identity.issueToken('alt_demo');
    const account = cloud.identity.accounts.find((a) => a.username === 'alt_demo');
    assert.ok(account);
    const before = await cloud.identity.tokens.contextFor(token, 'r');
    assert.deepEqual(before?.roles, ['member', 'reader']);
    const roles = await cloud.request({ url: '/identity/v3/roles?name=manager', as: 'admin' });
    const manager = roles.body.roles[0].id as string;
    const put = await cloud.request({ method: 'PUT', url: `/identity/v3/projects/${account.projectId}/users/${account.userId}/roles/${manager}`, as: 'admin' });
    assert.equal(put.status, 204);
    const afterGrant = await cloud.identity.tokens.contextFor(token, 'r');
    assert.deepEqual(afterGrant?.roles.slice().sort(), ['manager', 'member', 'reader']);
    const del = await cloud.request({ method: 'DELETE', url: `/identity/v3/projects/${account.projectId}/users/${account.userId}/roles/${manager}`, as: 'admin' });
    assert.equal(del.status, 204);
    // Removing a grant revokes the user's tokens on that project, as Keystone does.
    assert.equal(await cloud.identity.tokens.contextFor(token, 'r'), null);
    const fresh = await cloud.identity.issueToken('alt_demo');
    assert.deepEqual((await cloud.identity.tokens.contextFor(fresh, 'r'))?.roles, ['member', 'reader']);
  });
  it('expires tokens with the clock', async () => {
    const clock = cloud.clock as FakeClock;
    const token = await cloud.identity.issueToken('alt_demo');
    assert.ok(await cloud.identity.tokens.contextFor(token, 'r'));
    await clock.advance(3599 * 1000);
    assert.ok(await cloud.identity.tokens.contextFor(token, 'r'));
    await clock.advance(2000);
    assert.equal(await cloud.identity.tokens.contextFor(token, 'r'), null);
    const res = await cloud.request({ url: '/identity/v3/auth/tokens', as: { token }, headers: { 'x-subject-token': token } });
    assert.equal(res.status, 401);
    // allow_expired lets a service validate a recently expired token.
    const admin = await cloud.identity.issueToken('admin');
    const stale = await cloud.request({ url: '/identity/v3/auth/tokens?allow_expired=1', as: { token: admin }, headers: { 'x-subject-token': token } });
    assert.equal(stale.status, 200);
    const strict = await cloud.request({ url: '/identity/v3/auth/tokens', as: { token: admin }, headers: { 'x-subject-token': token } });
    assert.equal(strict.status, 404);
  });

});

describe('identity: noauth mode', () => {
  let cloud: TestCloud;
  before(async () => {
    cloud = await startTestCloud({ auth: { mode: 'noauth' } });
  });
  after(async () => {
    await cloud.close();
  });

  it('accepts user:project tokens for the services and still serves Keystone', async () => {
    const ctx = await cloud.identity.tokens.contextFor(cloud.tokens.admin, 'r');
    assert.equal(ctx?.isAdmin, true);
    assert.equal(ctx?.userName, 'admin');
    const res = await cloud.request({
      method: 'POST',
      url: '/identity/v3/auth/tokens',
      as: null,
      body: passwordAuth({ name: 'demo', domain: { id: 'default' }, password: PASSWORDS.demo }, { project: { name: 'demo', domain: { id: 'default' } } }),
    });
    assert.equal(res.status, 201);
  });
});
