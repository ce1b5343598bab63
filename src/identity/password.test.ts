import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { hashPassword, verifyPassword } from './password.js';

describe('password hashing', () => {
  it('hashes with scrypt and a random salt, and verifies', async () => {
    const a = await hashPassword('secret');
    const b = await hashPassword('secret');
    assert.match(a, /^scrypt\$16384\$8\$1\$[\w-]{22}\$[\w-]{43}$/);
    assert.notEqual(a, b);
    assert.equal(await verifyPassword('secret', a), true);
    assert.equal(await verifyPassword('Secret', a), false);
    assert.equal(await verifyPassword('', a), false);
  });

  it('refuses missing or malformed hashes', async () => {
    assert.equal(await verifyPassword('x', null), false);
    assert.equal(await verifyPassword('x', 'plain'), false);
    assert.equal(await verifyPassword('x', 'scrypt$0$8$1$AAAA$BBBB'), false);
    assert.equal(await verifyPassword('x', 'scrypt$16384$8$1$AAAA$short'), false);
  });
});
