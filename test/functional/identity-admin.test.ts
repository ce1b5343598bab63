import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestCloud, type TestCloud, type RequestOpts } from '../helpers/cloud.js';

const V3 = '/identity/v3';

describe('identity: admin API', () => {
  let cloud: TestCloud;
  const admin = (o: RequestOpts) => cloud.request({ as: 'admin', headers: { host: 'keystone.test' }, ...o });
  const login = (name: string, password: string, scope?: unknown) =>
    cloud.request({
      method: 'POST',
      url: `${V3}/auth/tokens`,
      as: null,
      body: { auth: { identity: { methods: ['password'], password: { user: { name, domain: { id: 'default' }, password } } }, ...(scope ? { scope } : {}) } },
    });
  const roleId = async (name: string): Promise<string> => {
    const res = await admin({ url: `${V3}/roles?name=${name}` });
    return String(res.body.roles[0].id);
  };

  before(async () => {
    cloud = await startTestCloud();
  });
  after(async () => {
    await cloud.close();
  });

  it('lists the seeded domain, projects, users and roles in Keystone\'s shapes', async () => {
    const domains = await admin({ url: `${V3}/domains` });
    assert.equal(domains.status, 200);
    assert.deepEqual(domains.body.domains.map((d: { id: string; name: string }) => [d.id, d.name]), [['default', 'Default']]);
    assert.equal(domains.body.domains[0].links.self, 'http://keystone.test/identity/v3/domains/default');
    assert.deepEqual(domains.body.links, { self: 'http://keystone.test/identity/v3/domains', previous: null, next: null });

    const projects = await admin({ url: `${V3}/projects` });
    assert.deepEqual(projects.body.projects.map((p: { name: string }) => p.name).sort(), ['admin', 'alt_demo', 'demo', 'service']);
    const demo = projects.body.projects.find((p: { name: string }) => p.name === 'demo');
    assert.match(demo.id, /^[0-9a-f]{32}$/);
    assert.equal(demo.domain_id, 'default');
    assert.equal(demo.parent_id, 'default');
    assert.equal(demo.is_domain, false);
    assert.equal(demo.enabled, true);
    assert.deepEqual(demo.tags, []);
    assert.equal(demo.links.self, `http://keystone.test/identity/v3/projects/${demo.id}`);

    const filtered = await admin({ url: `${V3}/projects?name=demo&domain_id=default&enabled=true` });
    assert.deepEqual(filtered.body.projects.map((p: { id: string }) => p.id), [demo.id]);
    assert.equal(filtered.body.links.self, 'http://keystone.test/identity/v3/projects?name=demo&domain_id=default&enabled=true');
    const disabled = await admin({ url: `${V3}/projects?enabled=false` });
    assert.deepEqual(disabled.body.projects, []);

    const users = await admin({ url: `${V3}/users` });
    assert.deepEqual(users.body.users.map((u: { name: string }) => u.name).sort(), ['admin', 'alt_demo', 'demo']);
    for (const u of users.body.users) {
      assert.equal(u.password, undefined);
      assert.equal(u.password_expires_at, null);
      assert.equal(u.domain_id, 'default');
    }

    const roles = await admin({ url: `${V3}/roles` });
    assert.deepEqual(roles.body.roles.map((r: { name: string }) => r.name).sort(), ['admin', 'manager', 'member', 'reader', 'service']);
    assert.equal(roles.body.roles[0].domain_id, null);

    const inferences = await admin({ url: `${V3}/role_inferences` });
    const pairs = inferences.body.role_inferences
      .flatMap((i: { prior_role: { name: string }; implies: { name: string }[] }) => i.implies.map((x) => `${i.prior_role.name}->${x.name}`))
      .sort();
    assert.deepEqual(pairs, ['admin->member', 'manager->member', 'member->reader']);
  });

  it('denies non-admins the admin API with 403, but lets a user read itself and its project', async () => {
    const demo = cloud.identity.accounts.find((a) => a.username === 'demo');
    const alt = cloud.identity.accounts.find((a) => a.username === 'alt_demo');
    assert.ok(demo && alt);
    for (const [method, url, body] of [
      ['GET', `${V3}/projects`],
      ['GET', `${V3}/users`],
      ['GET', `${V3}/roles`],
      ['GET', `${V3}/domains`],
      ['GET', `${V3}/services`],
      ['GET', `${V3}/endpoints`],
      ['GET', `${V3}/role_assignments`],
      ['POST', `${V3}/projects`, { project: { name: 'x' } }],
      ['POST', `${V3}/users`, { user: { name: 'x' } }],
      ['DELETE', `${V3}/projects/${alt.projectId}`],
      ['GET', `${V3}/users/${alt.userId}`],
      ['GET', `${V3}/projects/${alt.projectId}`],
      ['PUT', `${V3}/projects/${demo.projectId}/users/${demo.userId}/roles/whatever`],
    ] as const) {
      const res = await cloud.request({ method, url, as: 'demo', ...(body ? { body } : {}) });
      assert.equal(res.status, 403, `${method} ${url}`);
      assert.equal(res.body.error.title, 'Forbidden');
      assert.match(res.body.error.message, /^You are not authorized to perform the requested action: identity:\w+\.$/);
    }
    const self = await cloud.request({ url: `${V3}/users/${demo.userId}`, as: 'demo' });
    assert.equal(self.status, 200);
    assert.equal(self.body.user.name, 'demo');
    const own = await cloud.request({ url: `${V3}/projects/${demo.projectId}`, as: 'demo' });
    assert.equal(own.status, 200);
    const mine = await cloud.request({ url: `${V3}/users/${demo.userId}/projects`, as: 'demo' });
    assert.deepEqual(mine.body.projects.map((p: { name: string }) => p.name), ['demo']);
    const ra = await cloud.request({ url: `${V3}/role_assignments?user.id=${demo.userId}`, as: 'demo' });
    assert.equal(ra.status, 200);
    const regions = await cloud.request({ url: `${V3}/regions`, as: 'demo' });
    assert.equal(regions.status, 200);
    assert.deepEqual(regions.body.regions.map((r: { id: string }) => r.id), ['RegionOne']);
    const anon = await cloud.request({ url: `${V3}/projects`, as: null });
    assert.equal(anon.status, 401);
  });

  it('creates, shows, updates and deletes projects', async () => {
    const created = await admin({ method: 'POST', url: `${V3}/projects`, body: { project: { name: 'p1', description: 'first', tags: ['a'], ham: 'spam' } } });
    assert.equal(created.status, 201);
    const p = created.body.project;
    assert.match(p.id, /^[0-9a-f]{32}$/);
    assert.equal(p.domain_id, 'default');
    assert.equal(p.description, 'first');
    assert.equal(p.ham, 'spam');
    assert.deepEqual(p.tags, ['a']);

    const dup = await admin({ method: 'POST', url: `${V3}/projects`, body: { project: { name: 'p1' } } });
    assert.equal(dup.status, 409);
    assert.equal(dup.body.error.title, 'Conflict');
    const bad = await admin({ method: 'POST', url: `${V3}/projects`, body: { project: { description: 'no name' } } });
    assert.equal(bad.status, 400);
    const badType = await admin({ method: 'POST', url: `${V3}/projects`, body: { project: { name: 'x', enabled: 'yes' } } });
    assert.equal(badType.status, 400);
    const noDomain = await admin({ method: 'POST', url: `${V3}/projects`, body: { project: { name: 'x', domain_id: 'nope' } } });
    assert.equal(noDomain.status, 404);

    const shown = await admin({ url: `${V3}/projects/${p.id}` });
    assert.equal(shown.status, 200);
    assert.deepEqual(shown.body.project, p);

    const patched = await admin({ method: 'PATCH', url: `${V3}/projects/${p.id}`, body: { project: { name: 'p1-renamed', enabled: false } } });
    assert.equal(patched.status, 200);
    assert.equal(patched.body.project.name, 'p1-renamed');
    assert.equal(patched.body.project.enabled, false);
    assert.equal(patched.body.project.description, 'first');
    const move = await admin({ method: 'PATCH', url: `${V3}/projects/${p.id}`, body: { project: { domain_id: 'other' } } });
    assert.equal(move.status, 400);

    const del = await admin({ method: 'DELETE', url: `${V3}/projects/${p.id}` });
    assert.equal(del.status, 204);
    const gone = await admin({ url: `${V3}/projects/${p.id}` });
    assert.equal(gone.status, 404);
    assert.deepEqual(gone.body, { error: { code: 404, message: `Could not find project: ${p.id}.`, title: 'Not Found' } });
    const delAgain = await admin({ method: 'DELETE', url: `${V3}/projects/${p.id}` });
    assert.equal(delAgain.status, 404);
  });

  it('creates users with hashed passwords who can then log in; password changes and disabling revoke tokens', async () => {
    const proj = (await admin({ method: 'POST', url: `${V3}/projects`, body: { project: { name: 'team' } } })).body.project;
    const created = await admin({ method: 'POST', url: `${V3}/users`, body: { user: { name: 'alice', password: 's3cret', email: 'alice@example.com', default_project_id: proj.id } } });
    assert.equal(created.status, 201);
    const alice = created.body.user;
    assert.equal(alice.password, undefined);
    assert.equal(alice.email, 'alice@example.com');
    assert.equal(alice.default_project_id, proj.id);
    assert.match(alice.id, /^[0-9a-f]{32}$/);
    const dup = await admin({ method: 'POST', url: `${V3}/users`, body: { user: { name: 'alice' } } });
    assert.equal(dup.status, 409);

    // No role yet: the default project cannot be used, so the token is unscoped.
    const unscoped = await login('alice', 's3cret');
    assert.equal(unscoped.status, 201);
    assert.equal(unscoped.body.token.project, undefined);

    const member = await roleId('member');
    const grant = await admin({ method: 'PUT', url: `${V3}/projects/${proj.id}/users/${alice.id}/roles/${member}` });
    assert.equal(grant.status, 204);
    const check = await admin({ method: 'HEAD', url: `${V3}/projects/${proj.id}/users/${alice.id}/roles/${member}` });
    assert.equal(check.status, 204);
    const listed = await admin({ url: `${V3}/projects/${proj.id}/users/${alice.id}/roles` });
    assert.deepEqual(listed.body.roles.map((r: { name: string }) => r.name), ['member']);

    // Now no scope means the default project.
    const scoped = await login('alice', 's3cret');
    assert.equal(scoped.body.token.project.id, proj.id);
    assert.deepEqual(scoped.body.token.roles.map((r: { name: string }) => r.name).sort(), ['member', 'reader']);
    // 'unscoped' asks explicitly for none.
    const explicit = await cloud.request({
      method: 'POST',
      url: `${V3}/auth/tokens`,
      as: null,
      body: { auth: { identity: { methods: ['password'], password: { user: { id: alice.id, password: 's3cret' } } }, scope: 'unscoped' } },
    });
    assert.equal(explicit.body.token.project, undefined);

    const token = String(scoped.headers['x-subject-token']);
    assert.ok(await cloud.identity.tokens.contextFor(token, 'r'));
    // The user changes their own password with the original one.
    const wrong = await cloud.request({ method: 'POST', url: `${V3}/users/${alice.id}/password`, as: { token }, body: { user: { original_password: 'nope', password: 'new' } } });
    assert.equal(wrong.status, 401);
    const changed = await cloud.request({ method: 'POST', url: `${V3}/users/${alice.id}/password`, as: { token }, body: { user: { original_password: 's3cret', password: 'n3w' } } });
    assert.equal(changed.status, 204);
    assert.equal(await cloud.identity.tokens.contextFor(token, 'r'), null);
    assert.equal((await login('alice', 's3cret')).status, 401);
    const relog = await login('alice', 'n3w');
    assert.equal(relog.status, 201);

    // Disabling revokes and blocks login.
    const token2 = String(relog.headers['x-subject-token']);
    const off = await admin({ method: 'PATCH', url: `${V3}/users/${alice.id}`, body: { user: { enabled: false } } });
    assert.equal(off.status, 200);
    assert.equal(off.body.user.enabled, false);
    assert.equal(await cloud.identity.tokens.contextFor(token2, 'r'), null);
    assert.equal((await login('alice', 'n3w')).status, 401);
    const on = await admin({ method: 'PATCH', url: `${V3}/users/${alice.id}`, body: { user: { enabled: true } } });
    assert.equal(on.status, 200);
    // Re-enabling does not bring revoked tokens back.
    assert.equal(await cloud.identity.tokens.contextFor(token2, 'r'), null);
    assert.equal((await login('alice', 'n3w')).status, 201);

    // Admin resets the password.
    const reset = await admin({ method: 'PATCH', url: `${V3}/users/${alice.id}`, body: { user: { password: 'reset' } } });
    assert.equal(reset.status, 200);
    assert.equal(reset.body.user.password, undefined);
    assert.equal((await login('alice', 'reset')).status, 201);

    // Role assignments, with names and effective (implied) roles.
    const ra = await admin({ url: `${V3}/role_assignments?user.id=${alice.id}&include_names` });
    assert.equal(ra.status, 200);
    assert.deepEqual(ra.body.role_assignments, [
      {
        scope: { project: { id: proj.id, name: 'team', domain: { id: 'default', name: 'Default' } } },
        role: { id: member, name: 'member' },
        user: { id: alice.id, name: 'alice', domain: { id: 'default', name: 'Default' } },
        links: { assignment: `http://keystone.test/identity/v3/projects/${proj.id}/users/${alice.id}/roles/${member}` },
      },
    ]);
    const eff = await admin({ url: `${V3}/role_assignments?user.id=${alice.id}&effective` });
    const reader = await roleId('reader');
    assert.deepEqual(eff.body.role_assignments.map((a: { role: { id: string } }) => a.role.id).sort(), [member, reader].sort());
    const byProject = await admin({ url: `${V3}/role_assignments?scope.project.id=${proj.id}` });
    assert.equal(byProject.body.role_assignments.length, 1);

    const revoke = await admin({ method: 'DELETE', url: `${V3}/projects/${proj.id}/users/${alice.id}/roles/${member}` });
    assert.equal(revoke.status, 204);
    const revokeAgain = await admin({ method: 'DELETE', url: `${V3}/projects/${proj.id}/users/${alice.id}/roles/${member}` });
    assert.equal(revokeAgain.status, 404);
    const checkGone = await admin({ method: 'HEAD', url: `${V3}/projects/${proj.id}/users/${alice.id}/roles/${member}` });
    assert.equal(checkGone.status, 404);

    const del = await admin({ method: 'DELETE', url: `${V3}/users/${alice.id}` });
    assert.equal(del.status, 204);
    assert.equal((await admin({ url: `${V3}/users/${alice.id}` })).status, 404);
    assert.equal((await login('alice', 'reset')).status, 401);
  });

  it('disabling or deleting a project revokes the tokens scoped to it', async () => {
    const proj = (await admin({ method: 'POST', url: `${V3}/projects`, body: { project: { name: 'short-lived' } } })).body.project;
    const bob = (await admin({ method: 'POST', url: `${V3}/users`, body: { user: { name: 'bob', password: 'pw' } } })).body.user;
    await admin({ method: 'PUT', url: `${V3}/projects/${proj.id}/users/${bob.id}/roles/${await roleId('reader')}` });
    const res = await login('bob', 'pw', { project: { id: proj.id } });
    assert.equal(res.status, 201);
    assert.deepEqual(res.body.token.roles.map((r: { name: string }) => r.name), ['reader']);
    const token = String(res.headers['x-subject-token']);
    await admin({ method: 'PATCH', url: `${V3}/projects/${proj.id}`, body: { project: { enabled: false } } });
    assert.equal(await cloud.identity.tokens.contextFor(token, 'r'), null);
    assert.equal((await login('bob', 'pw', { project: { id: proj.id } })).status, 401);
    await admin({ method: 'PATCH', url: `${V3}/projects/${proj.id}`, body: { project: { enabled: true } } });
    const again = await login('bob', 'pw', { project: { id: proj.id } });
    assert.equal(again.status, 201);
    await admin({ method: 'DELETE', url: `${V3}/projects/${proj.id}` });
    assert.equal(await cloud.identity.tokens.contextFor(String(again.headers['x-subject-token']), 'r'), null);
  });

  it('creates, updates and deletes roles and implications', async () => {
    const created = await admin({ method: 'POST', url: `${V3}/roles`, body: { role: { name: 'auditor', description: 'reads logs' } } });
    assert.equal(created.status, 201);
    const auditor = created.body.role;
    assert.equal(auditor.domain_id, null);
    assert.equal(auditor.description, 'reads logs');
    assert.equal((await admin({ method: 'POST', url: `${V3}/roles`, body: { role: { name: 'auditor' } } })).status, 409);
    const shown = await admin({ url: `${V3}/roles/${auditor.id}` });
    assert.deepEqual(shown.body.role, auditor);
    const patched = await admin({ method: 'PATCH', url: `${V3}/roles/${auditor.id}`, body: { role: { description: 'audits' } } });
    assert.equal(patched.body.role.description, 'audits');

    const reader = await roleId('reader');
    const imp = await admin({ method: 'PUT', url: `${V3}/roles/${auditor.id}/implies/${reader}` });
    assert.equal(imp.status, 201);
    assert.equal(imp.body.role_inference.prior_role.id, auditor.id);
    assert.equal(imp.body.role_inference.implies.id, reader);
    const list = await admin({ url: `${V3}/roles/${auditor.id}/implies` });
    assert.deepEqual(list.body.role_inference.implies.map((r: { name: string }) => r.name), ['reader']);
    // A cycle is refused, and so is implying admin.
    assert.equal((await admin({ method: 'PUT', url: `${V3}/roles/${reader}/implies/${auditor.id}` })).status, 400);
    assert.equal((await admin({ method: 'PUT', url: `${V3}/roles/${auditor.id}/implies/${await roleId('admin')}` })).status, 403);
    assert.equal((await admin({ method: 'HEAD', url: `${V3}/roles/${auditor.id}/implies/${reader}` })).status, 204);
    assert.equal((await admin({ method: 'DELETE', url: `${V3}/roles/${auditor.id}/implies/${reader}` })).status, 204);
    assert.equal((await admin({ url: `${V3}/roles/${auditor.id}/implies/${reader}` })).status, 404);

    assert.equal((await admin({ method: 'DELETE', url: `${V3}/roles/${auditor.id}` })).status, 204);
    assert.equal((await admin({ url: `${V3}/roles/${auditor.id}` })).status, 404);
  });

  it('manages domains and supports domain-scoped tokens', async () => {
    const created = await admin({ method: 'POST', url: `${V3}/domains`, body: { domain: { name: 'Engineering', description: 'eng' } } });
    assert.equal(created.status, 201);
    const dom = created.body.domain;
    assert.match(dom.id, /^[0-9a-f]{32}$/);
    assert.equal(dom.enabled, true);
    const carol = (await admin({ method: 'POST', url: `${V3}/users`, body: { user: { name: 'carol', password: 'pw', domain_id: dom.id } } })).body.user;
    assert.equal(carol.domain_id, dom.id);
    const proj = (await admin({ method: 'POST', url: `${V3}/projects`, body: { project: { name: 'web', domain_id: dom.id } } })).body.project;
    const member = await roleId('member');
    await admin({ method: 'PUT', url: `${V3}/projects/${proj.id}/users/${carol.id}/roles/${member}` });
    assert.equal((await admin({ method: 'PUT', url: `${V3}/domains/${dom.id}/users/${carol.id}/roles/${member}` })).status, 204);

    const byDomainName = await cloud.request({
      method: 'POST',
      url: `${V3}/auth/tokens`,
      as: null,
      body: {
        auth: {
          identity: { methods: ['password'], password: { user: { name: 'carol', domain: { name: 'Engineering' }, password: 'pw' } } },
          scope: { project: { name: 'web', domain: { name: 'Engineering' } } },
        },
      },
    });
    assert.equal(byDomainName.status, 201);
    assert.deepEqual(byDomainName.body.token.project.domain, { id: dom.id, name: 'Engineering' });

    const domainScoped = await cloud.request({
      method: 'POST',
      url: `${V3}/auth/tokens`,
      as: null,
      body: {
        auth: {
          identity: { methods: ['password'], password: { user: { id: carol.id, password: 'pw' } } },
          scope: { domain: { name: 'Engineering' } },
        },
      },
    });
    assert.equal(domainScoped.status, 201);
    assert.deepEqual(domainScoped.body.token.domain, { id: dom.id, name: 'Engineering' });
    assert.equal(domainScoped.body.token.project, undefined);
    assert.ok(domainScoped.body.token.catalog);
    const dtoken = String(domainScoped.headers['x-subject-token']);
    const ctx = await cloud.identity.tokens.contextFor(dtoken, 'r');
    assert.equal(ctx?.projectId, null);
    const myDomains = await cloud.request({ url: `${V3}/auth/domains`, as: { token: dtoken } });
    assert.deepEqual(myDomains.body.domains.map((d: { name: string }) => d.name), ['Engineering']);
    const readOwnDomain = await cloud.request({ url: `${V3}/domains/${dom.id}`, as: { token: dtoken } });
    assert.equal(readOwnDomain.status, 200);

    // An enabled domain cannot be deleted.
    const early = await admin({ method: 'DELETE', url: `${V3}/domains/${dom.id}` });
    assert.equal(early.status, 403);
    const off = await admin({ method: 'PATCH', url: `${V3}/domains/${dom.id}`, body: { domain: { enabled: false } } });
    assert.equal(off.status, 200);
    assert.equal(await cloud.identity.tokens.contextFor(dtoken, 'r'), null);
    assert.equal((await admin({ method: 'DELETE', url: `${V3}/domains/${dom.id}` })).status, 204);
    assert.equal((await admin({ url: `${V3}/users/${carol.id}` })).status, 404);
    assert.equal((await admin({ url: `${V3}/projects/${proj.id}` })).status, 404);
  });

  it('lists services, endpoints and regions that match the catalog', async () => {
    const services = await admin({ url: `${V3}/services` });
    assert.equal(services.status, 200);
    assert.deepEqual(services.body.services.map((s: { type: string }) => s.type).sort(), ['compute', 'identity', 'image']);
    const compute = services.body.services.find((s: { type: string }) => s.type === 'compute');
    assert.equal(compute.name, 'nova');
    assert.equal(compute.enabled, true);
    const computeOnly = await admin({ url: `${V3}/services?type=compute` });
    assert.deepEqual(computeOnly.body.services, [compute]);
    assert.deepEqual((await admin({ url: `${V3}/services/${compute.id}` })).body.service, compute);

    const endpoints = await admin({ url: `${V3}/endpoints?service_id=${compute.id}&interface=public` });
    assert.equal(endpoints.body.endpoints.length, 1);
    const ep = endpoints.body.endpoints[0];
    assert.equal(ep.url, 'http://keystone.test/compute/v2.1');
    assert.equal(ep.region_id, 'RegionOne');
    assert.equal((await admin({ url: `${V3}/endpoints/${ep.id}` })).body.endpoint.id, ep.id);
    assert.equal((await admin({ url: `${V3}/endpoints` })).body.endpoints.length, 9);

    // The catalog in a token carries the same ids.
    const token = await admin({ method: 'POST', url: `${V3}/auth/tokens`, as: null, body: { auth: { identity: { methods: ['token'], token: { id: cloud.tokens.admin } }, scope: { project: { name: 'admin', domain: { id: 'default' } } } } } });
    const entry = token.body.token.catalog.find((s: { type: string }) => s.type === 'compute');
    assert.equal(entry.id, compute.id);
    assert.ok(entry.endpoints.some((e: { id: string }) => e.id === ep.id));

    assert.equal((await admin({ url: `${V3}/regions/RegionOne` })).body.region.id, 'RegionOne');
    assert.equal((await admin({ url: `${V3}/regions/Nowhere` })).status, 404);
  });
});
