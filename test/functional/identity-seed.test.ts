import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { buildCloud, type Cloud } from '../../src/app.js';
import { makeConfig } from '../../src/config/index.js';
import { FakeClock } from '../../src/lib/clock.js';

async function login(cloud: Cloud, name: string, password: string): Promise<{ status: number; token: string }> {
  const res = await cloud.app.inject({
    method: 'POST',
    url: '/identity/v3/auth/tokens',
    headers: { 'content-type': 'application/json' },
    payload: JSON.stringify({
      auth: {
        identity: { methods: ['password'], password: { user: { name, domain: { id: 'default' }, password } } },
        scope: { project: { name, domain: { id: 'default' } } },
      },
    }),
  });
  return { status: res.statusCode, token: String(res.headers['x-subject-token'] ?? '') };
}

describe('identity: seeding across restarts', () => {
  let dir: string;
  const clock = new FakeClock(Date.parse('2026-03-01T00:00:00Z'));
  const start = (passwords: Record<string, string> = {}) =>
    buildCloud({
      config: makeConfig({ log_level: 'silent', data_dir: dir, compute: { timing: 'instant' }, auth: { passwords } }),
      dbPath: join(dir, 'stratus.db'),
      clock,
      log: pino({ level: 'silent' }),
    });

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'stratus-identity-'));
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('seeds once, keeps ids and tokens across a restart, and follows a changed password', async () => {
    const first = await start();
    const accounts = first.identity.accounts;
    const ok = await login(first, 'demo', 'stratus-demo');
    assert.equal(ok.status, 201);
    const adminToken = (await login(first, 'admin', 'stratus-admin')).token;
    await first.close();

    const second = await start();
    assert.deepEqual(second.identity.accounts, accounts);
    const count = async (table: 'users' | 'projects' | 'roles' | 'domains' | 'role_assignments' | 'implied_roles') =>
      Number((await second.db.selectFrom(table).select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
    assert.equal(await count('users'), 3);
    assert.equal(await count('projects'), 4);
    assert.equal(await count('roles'), 5);
    assert.equal(await count('domains'), 1);
    assert.equal(await count('role_assignments'), 3);
    assert.equal(await count('implied_roles'), 3);
    // Tokens live in the database: they survive the restart.
    const ctx = await second.identity.tokens.contextFor(ok.token, 'r');
    assert.equal(ctx?.userName, 'demo');
    await second.close();

    const third = await start({ demo: 'changed-demo' });
    assert.deepEqual(
      third.identity.accounts.map((a) => a.userId),
      accounts.map((a) => a.userId),
    );
    assert.equal(third.identity.accounts.find((a) => a.username === 'demo')?.password, 'changed-demo');
    assert.equal((await login(third, 'demo', 'stratus-demo')).status, 401);
    assert.equal((await login(third, 'demo', 'changed-demo')).status, 201);
    // The demo user's old tokens went with the old password; admin's did not.
    assert.equal(await third.identity.tokens.contextFor(ok.token, 'r'), null);
    assert.ok(await third.identity.tokens.contextFor(adminToken, 'r'));
    await third.close();
  });
});
