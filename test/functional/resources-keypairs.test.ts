import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { startTestCloud, type TestCloud } from '../helpers/cloud.js';
import { initResources } from '../../src/compute/resources/seed.js';
import { findKeypair } from '../../src/compute/resources/keypairs.js';

const V = '/compute/v2.1';
// Made with ssh-keygen; fingerprint from `ssh-keygen -l -E md5`.
const ED25519 = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE/Q4gpKI9ApTPB1ZyvfZb1Bi1ng/PaW96sxkjZMQbjw me@host';
const ED25519_FP = '7f:79:82:9e:a7:69:fb:de:a9:ae:f9:5e:a1:64:98:54';

type As = 'admin' | 'demo' | 'alt_demo';

describe('keypairs', () => {
  let cloud: TestCloud;
  let demoUser: string;
  let altUser: string;
  let demoProject: string;

  const create = (keypair: Record<string, unknown>, version?: string, as: As = 'demo') =>
    cloud.request({ method: 'POST', url: `${V}/os-keypairs`, body: { keypair }, as, ...(version ? { version } : {}) });
  const del = (name: string, version?: string, as: As = 'demo', query = '') =>
    cloud.request({ method: 'DELETE', url: `${V}/os-keypairs/${name}${query}`, as, ...(version ? { version } : {}) });
  const badRequest = (res: { status: number; body: { badRequest?: { message: string } }; text: string }, message?: string) => {
    assert.equal(res.status, 400, res.text);
    if (message !== undefined) assert.equal(res.body.badRequest?.message, message);
  };

  before(async () => {
    cloud = await startTestCloud();
    await initResources(cloud);
    const account = (n: string) => cloud.identity.accounts.find((a) => a.username === n);
    demoUser = account('demo')?.userId ?? 'demo';
    altUser = account('alt_demo')?.userId ?? 'alt_demo';
    demoProject = account('demo')?.projectId ?? 'demo';
  });
  after(async () => {
    await cloud.close();
  });

  describe('create', () => {
    it('below 2.2: generates an ssh key, 200, no type', async () => {
      const res = await create({ name: 'gen21' });
      assert.equal(res.status, 200);
      const k = res.body.keypair;
      assert.deepEqual(Object.keys(k).sort(), ['fingerprint', 'name', 'private_key', 'public_key', 'user_id']);
      assert.equal(k.user_id, demoUser);
      assert.match(k.public_key, /^ssh-rsa \S+ Generated-by-Nova$/);
      assert.match(k.private_key, /^-----BEGIN RSA PRIVATE KEY-----/);
      assert.doesNotThrow(() => createPrivateKey(k.private_key));
      assert.match(k.fingerprint, /^([0-9a-f]{2}:){15}[0-9a-f]{2}$/);
    });

    it('from 2.2: 201 with type', async () => {
      const res = await create({ name: 'gen22' }, '2.2');
      assert.equal(res.status, 201);
      assert.equal(res.body.keypair.type, 'ssh');
      assert.ok(res.body.keypair.private_key);
    });

    it('imports a public key and fingerprints it as Nova does', async () => {
      const res = await create({ name: 'imported', public_key: ED25519 }, '2.2');
      assert.equal(res.status, 201);
      assert.deepEqual(res.body.keypair, { type: 'ssh', name: 'imported', public_key: ED25519, fingerprint: ED25519_FP, user_id: demoUser });
    });

    it('generates an x509 certificate (2.2 to 2.91)', async () => {
      const res = await create({ name: 'winrm', type: 'x509' }, '2.2');
      assert.equal(res.status, 201);
      const k = res.body.keypair;
      assert.equal(k.type, 'x509');
      const cert = new X509Certificate(k.public_key);
      assert.equal(cert.subject, `CN=${demoUser}`);
      assert.equal(k.fingerprint, cert.fingerprint.toLowerCase());
      assert.ok(Buffer.from(k.private_key, 'base64').length > 100);
      // importing the certificate works too
      const imp = await create({ name: 'winrm-imported', type: 'x509', public_key: k.public_key }, '2.2');
      assert.equal(imp.status, 201);
      assert.equal(imp.body.keypair.fingerprint, k.fingerprint);
      const bad = await create({ name: 'winrm-bad', type: 'x509', public_key: 'nope' }, '2.2');
      assert.equal(bad.status, 400);
      assert.match(bad.body.badRequest.message, /^Keypair data is invalid: failed to generate X509 fingerprint\./);
    });

    it('2.92 requires public_key (no generation) and allows @ and . in names', async () => {
      badRequest(await create({ name: 'gen292' }, '2.92'), "'public_key' is a required property");
      badRequest(await create({ name: 'me@host.k', public_key: ED25519 }, '2.91'));
      const res = await create({ name: 'me@host.k', public_key: ED25519 }, '2.92');
      assert.equal(res.status, 201);
      assert.equal(res.body.keypair.private_key, undefined);
    });

    it('409 on a duplicate name for the same user, fine for another user', async () => {
      const dup = await create({ name: 'imported', public_key: ED25519 }, '2.2');
      assert.equal(dup.status, 409);
      assert.equal(dup.body.conflictingRequest.message, "Key pair 'imported' already exists.");
      assert.equal((await create({ name: 'imported', public_key: ED25519 }, '2.2', 'alt_demo')).status, 201);
    });

    it('400 on invalid keys and bodies', async () => {
      const invalid = 'Keypair data is invalid: failed to generate fingerprint';
      badRequest(await create({ name: 'bad1', public_key: 'not a key' }), invalid);
      badRequest(await create({ name: 'bad2', public_key: 'ssh-rsa AAAAB3NzaC1yc2E' }), invalid);
      badRequest(await create({ name: 'bad3', public_key: '' }), invalid);
      badRequest(await create({ name: 'bad4', public_key: ED25519.replace('ssh-ed25519', 'ssh-rsa') }), invalid);
      badRequest(
        await create({ name: ' lead', public_key: ED25519 }),
        "An invalid 'name' value was provided. The name must be: printable characters. Can not start or end with whitespace.",
      );
      badRequest(await create({ name: 'a/b', public_key: ED25519 }), "Invalid input for field/attribute name. Value: a/b. 'a/b' does not match '^[_\\\\- a-zA-Z0-9]+$'");
      badRequest(await create({ name: '', public_key: ED25519 }));
      badRequest(await create({ name: 'x'.repeat(256), public_key: ED25519 }));
      badRequest(await create({ public_key: ED25519 }), "'name' is a required property");
      badRequest(await create({ name: 'k', type: 'ssh' }, '2.1'), "Additional properties are not allowed ('type' was unexpected)");
      badRequest(await create({ name: 'k', type: 'rsa' }, '2.2'));
      badRequest(await create({ name: 'k', user_id: demoUser }, '2.9'));
      badRequest(await create({ name: 'k', public_key: 5 }, '2.2'));
      badRequest(await cloud.request({ method: 'POST', url: `${V}/os-keypairs`, body: {} }), "'keypair' is a required property");
    });
  });

  describe('list, show, delete', () => {
    it('lists only the caller’s key pairs, sorted by name, type from 2.2', async () => {
      const r21 = await cloud.request({ url: `${V}/os-keypairs` });
      assert.equal(r21.status, 200);
      const names = r21.body.keypairs.map((k: { keypair: { name: string } }) => k.keypair.name);
      assert.deepEqual(names, [...names].sort());
      assert.ok(names.includes('imported'));
      assert.deepEqual(Object.keys(r21.body.keypairs[0].keypair).sort(), ['fingerprint', 'name', 'public_key']);
      const r22 = await cloud.request({ url: `${V}/os-keypairs`, version: '2.2' });
      assert.deepEqual(Object.keys(r22.body.keypairs[0].keypair).sort(), ['fingerprint', 'name', 'public_key', 'type']);
      const alt = await cloud.request({ url: `${V}/os-keypairs`, as: 'alt_demo' });
      assert.deepEqual(alt.body.keypairs.map((k: { keypair: { name: string } }) => k.keypair.name), ['imported']);
    });

    it('2.35 pages with limit/marker and keypairs_links', async () => {
      const all = (await cloud.request({ url: `${V}/os-keypairs`, version: '2.35' })).body.keypairs.map(
        (k: { keypair: { name: string } }) => k.keypair.name,
      ) as string[];
      assert.ok(all.length >= 4);
      const p1 = await cloud.request({ url: `${V}/os-keypairs?limit=2`, version: '2.35' });
      assert.deepEqual(p1.body.keypairs.map((k: { keypair: { name: string } }) => k.keypair.name), all.slice(0, 2));
      const next = new URL(p1.body.keypairs_links[0].href);
      assert.equal(next.pathname, '/compute/v2.1/os-keypairs');
      assert.equal(next.searchParams.get('marker'), all[1]);
      const p2 = await cloud.request({ url: `${next.pathname}${next.search}`, version: '2.35' });
      assert.deepEqual(p2.body.keypairs.map((k: { keypair: { name: string } }) => k.keypair.name), all.slice(2, 4));
      // below 2.35 limit is ignored
      const old = await cloud.request({ url: `${V}/os-keypairs?limit=1`, version: '2.34' });
      assert.equal(old.body.keypairs.length, all.length);
      assert.equal(old.body.keypairs_links, undefined);
      badRequest(await cloud.request({ url: `${V}/os-keypairs?marker=nope`, version: '2.35' }), 'Marker nope could not be found.');
      badRequest(await cloud.request({ url: `${V}/os-keypairs?limit=-1`, version: '2.35' }));
      badRequest(await cloud.request({ url: `${V}/os-keypairs?foo=1`, version: '2.75' }));
      assert.equal((await cloud.request({ url: `${V}/os-keypairs?foo=1`, version: '2.74' })).status, 200);
    });

    it('shows a key pair with the soft-delete fields, type from 2.2', async () => {
      const r21 = await cloud.request({ url: `${V}/os-keypairs/imported` });
      assert.equal(r21.status, 200);
      const k = r21.body.keypair;
      assert.deepEqual(Object.keys(k).sort(), ['created_at', 'deleted', 'deleted_at', 'fingerprint', 'id', 'name', 'public_key', 'updated_at', 'user_id']);
      assert.equal(k.deleted, false);
      assert.equal(k.deleted_at, null);
      assert.equal(k.updated_at, null);
      assert.equal(typeof k.id, 'number');
      assert.match(k.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/);
      assert.equal(k.user_id, demoUser);
      const r22 = await cloud.request({ url: `${V}/os-keypairs/imported`, version: '2.2' });
      assert.equal(r22.body.keypair.type, 'ssh');
      const missing = await cloud.request({ url: `${V}/os-keypairs/nope` });
      assert.equal(missing.status, 404);
      assert.equal(missing.body.itemNotFound.message, `Keypair nope not found for user ${demoUser}`);
    });

    it('deletes: 202 below 2.2, 204 from 2.2, 404 after', async () => {
      await create({ name: 'del1', public_key: ED25519 });
      await create({ name: 'del2', public_key: ED25519 });
      const d1 = await del('del1');
      assert.equal(d1.status, 202);
      const d2 = await del('del2', '2.2');
      assert.equal(d2.status, 204);
      assert.equal(d2.text, '');
      const again = await del('del2', '2.2');
      assert.equal(again.status, 404);
      assert.equal(again.body.itemNotFound.message, `Keypair del2 not found for user ${demoUser}`);
    });

    it('findKeypair looks up by user and name', async () => {
      const k = await findKeypair(cloud.db, demoUser, 'imported');
      assert.equal(k?.fingerprint, ED25519_FP);
      assert.equal(await findKeypair(cloud.db, demoUser, 'nope'), null);
    });
  });

  describe('2.10 user_id', () => {
    it('admins manage other users’ key pairs', async () => {
      const res = await create({ name: 'for-demo', public_key: ED25519, user_id: demoUser }, '2.10', 'admin');
      assert.equal(res.status, 201);
      assert.equal(res.body.keypair.user_id, demoUser);
      const mine = await cloud.request({ url: `${V}/os-keypairs/for-demo`, version: '2.10' });
      assert.equal(mine.status, 200);
      const list = await cloud.request({ url: `${V}/os-keypairs?user_id=${demoUser}`, version: '2.10', as: 'admin' });
      assert.ok(list.body.keypairs.some((k: { keypair: { name: string } }) => k.keypair.name === 'for-demo'));
      const show = await cloud.request({ url: `${V}/os-keypairs/for-demo?user_id=${demoUser}`, version: '2.10', as: 'admin' });
      assert.equal(show.body.keypair.user_id, demoUser);
      assert.equal((await del('for-demo', '2.10', 'admin', `?user_id=${demoUser}`)).status, 204);
    });

    it('non-admins cannot reach other users', async () => {
      const list = await cloud.request({ url: `${V}/os-keypairs?user_id=${altUser}`, version: '2.10' });
      assert.equal(list.status, 403);
      assert.equal(list.body.forbidden.message, "Policy doesn't allow os_compute_api:os-keypairs:index to be performed.");
      assert.equal((await cloud.request({ url: `${V}/os-keypairs/imported?user_id=${altUser}`, version: '2.10' })).status, 403);
      assert.equal((await del('imported', '2.10', 'demo', `?user_id=${altUser}`)).status, 403);
      const c = await create({ name: 'steal', public_key: ED25519, user_id: altUser }, '2.10');
      assert.equal(c.status, 403);
      assert.equal(c.body.forbidden.message, "Policy doesn't allow os_compute_api:os-keypairs:create to be performed.");
      // below 2.10 the parameter is ignored
      const old = await cloud.request({ url: `${V}/os-keypairs?user_id=${altUser}`, version: '2.9' });
      assert.equal(old.status, 200);
      assert.ok(old.body.keypairs.every((k: { keypair: { name: string } }) => k.keypair.name !== 'steal'));
    });
  });

  describe('quota', () => {
    it('403 once the key_pairs quota is used up', async () => {
      const set = await cloud.request({
        method: 'PUT',
        url: `${V}/os-quota-sets/${demoProject}`,
        body: { quota_set: { key_pairs: 0, force: true } },
        as: 'admin',
      });
      assert.equal(set.status, 200, set.text);
      const res = await create({ name: 'over', public_key: ED25519 }, '2.2');
      assert.equal(res.status, 403);
      assert.equal(res.body.forbidden.message, 'Quota exceeded, too many key pairs.');
      await cloud.request({ method: 'DELETE', url: `${V}/os-quota-sets/${demoProject}`, as: 'admin' });
      assert.equal((await create({ name: 'over', public_key: ED25519 }, '2.2')).status, 201);
    });
  });
});
