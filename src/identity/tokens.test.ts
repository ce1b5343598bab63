import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { openDatabase, type Db } from '../db/index.js';
import { makeConfig } from '../config/index.js';
import { FakeClock } from '../lib/clock.js';
import { seed } from './seed.js';
import { IdentityStore } from './store.js';
import { TokenService, contextOf, tokenTime } from './tokens.js';
import type { SeededAccount } from './index.js';

describe('token service', () => {
  let db: Db;
  let store: IdentityStore;
  let tokens: TokenService;
  let accounts: SeededAccount[];
  const clock = new FakeClock(Date.parse('2026-11-22T14:50:47.250Z'));
  const account = (name: string): SeededAccount => {
    const a = accounts.find((x) => x.username === name);
    assert.ok(a);
    return a;
  };

  before(async () => {
    db = await openDatabase(':memory:');
    store = new IdentityStore(db, clock);
    tokens = new TokenService(db, store, clock, 600);
    accounts = await seed(store, tokens, makeConfig({}));
  });
  after(async () => {
    await db.destroy();
  });

  it('formats times as Keystone does', () => {
    assert.equal(tokenTime(Date.parse('2026-11-22T15:50:47Z')), '2026-11-22T15:50:47.000000Z');
  });

  it('issues project-scoped tokens with expanded roles and whole-second times', async () => {
    const demo = account('demo');
    const info = await tokens.issue({ userId: demo.userId, scope: { project: demo.projectId }, methods: ['password'] });
    assert.ok(info);
    assert.equal(info.issuedAt, Date.parse('2026-11-22T14:50:47Z'));
    assert.equal(info.expiresAt, info.issuedAt + 600_000);
    assert.deepEqual(info.roles.map((r) => r.name), ['member', 'reader']);
    assert.deepEqual(contextOf(info), {
      userId: demo.userId,
      userName: 'demo',
      userDomainId: 'default',
      projectId: demo.projectId,
      projectName: 'demo',
      projectDomainId: 'default',
      roles: ['member', 'reader'],
      isAdmin: false,
    });
    // No role on someone else's project: no token.
    assert.equal(await tokens.issue({ userId: demo.userId, scope: { project: account('alt_demo').projectId }, methods: ['password'] }), null);
    assert.equal(await tokens.issue({ userId: 'nobody', scope: null, methods: ['password'] }), null);
  });

  it('stores only a hash of the token id', async () => {
    const info = await tokens.issue({ userId: account('admin').userId, scope: null, methods: ['password'] });
    assert.ok(info);
    const rows = await db.selectFrom('tokens').select('id_hash').execute();
    assert.ok(rows.every((r) => r.id_hash !== info.id && /^[0-9a-f]{64}$/.test(r.id_hash)));
  });

  it('expires with the clock even when cached', async () => {
    const demo = account('demo');
    const info = await tokens.issue({ userId: demo.userId, scope: { project: demo.projectId }, methods: ['password'] });
    assert.ok(info);
    assert.ok(await tokens.contextFor(info.id, 'r'));
    await clock.advance(info.expiresAt - clock.now() - 1);
    assert.ok(await tokens.contextFor(info.id, 'r'));
    await clock.advance(1);
    assert.equal(await tokens.contextFor(info.id, 'r'), null);
    assert.equal(await tokens.validate(info.id), null);
    assert.ok(await tokens.validate(info.id, { allowExpired: true }));
  });

  it('drops revoked tokens from the cache at once', async () => {
    const demo = account('demo');
    const info = await tokens.issue({ userId: demo.userId, scope: { project: demo.projectId }, methods: ['password'] });
    assert.ok(info);
    assert.ok(await tokens.contextFor(info.id, 'r'));
    assert.equal(await tokens.revoke(info.id), true);
    assert.equal(await tokens.contextFor(info.id, 'r'), null);
    assert.equal(await tokens.revoke(info.id), false);
  });

  it('sees role changes through the cache (every store write clears it)', async () => {
    const alt = account('alt_demo');
    const info = await tokens.issue({ userId: alt.userId, scope: { project: alt.projectId }, methods: ['password'] });
    assert.ok(info);
    assert.deepEqual((await tokens.contextFor(info.id, 'r'))?.roles, ['member', 'reader']);
    const admin = await store.getRoleByName('admin');
    assert.ok(admin);
    await store.grant({ targetType: 'project', targetId: alt.projectId, actorId: alt.userId, roleId: admin.id });
    const ctx = await tokens.contextFor(info.id, 'r');
    assert.equal(ctx?.isAdmin, true);
    assert.deepEqual(ctx?.roles, ['admin', 'member', 'reader']);
    await store.revokeGrant({ targetType: 'project', targetId: alt.projectId, actorId: alt.userId, roleId: admin.id });
    assert.equal((await tokens.contextFor(info.id, 'r'))?.isAdmin, false);
  });

  it('returns independent context objects', async () => {
    const demo = account('demo');
    const info = await tokens.issue({ userId: demo.userId, scope: { project: demo.projectId }, methods: ['password'] });
    assert.ok(info);
    const a = await tokens.contextFor(info.id, 'a');
    assert.ok(a);
    a.roles.push('admin');
    const b = await tokens.contextFor(info.id, 'b');
    assert.deepEqual(b?.roles, ['member', 'reader']);
    assert.equal(b?.requestId, 'b');
  });
});

describe('identity store: implied roles', () => {
  let db: Db;
  let store: IdentityStore;
  before(async () => {
    db = await openDatabase(':memory:');
    store = new IdentityStore(db, new FakeClock());
  });
  after(async () => {
    await db.destroy();
  });

  it('expands transitively, each role once, direct roles first', async () => {
    const mk = (name: string) => store.createRole({ name, domainId: null, description: '', extra: {} });
    const [a, b, c, d] = [await mk('a'), await mk('b'), await mk('c'), await mk('d')];
    await store.addImplication(a.id, b.id);
    await store.addImplication(b.id, c.id);
    await store.addImplication(d.id, c.id);
    const roles = await store.expandRoles([a.id, d.id]);
    assert.deepEqual(roles.map((r) => r.name), ['a', 'd', 'b', 'c']);
    assert.equal(roles.find((r) => r.name === 'b')?.priorRoleId, a.id);
    assert.equal(roles.find((r) => r.name === 'c')?.priorRoleId, d.id);
    assert.equal(roles.find((r) => r.name === 'a')?.priorRoleId, undefined);
    assert.equal(await store.implies(a.id, c.id), true);
    assert.equal(await store.implies(c.id, a.id), false);
  });
});
