import { randomBytes, scrypt as scryptCb, timingSafeEqual } from 'node:crypto';

const COST = 16384;
const BLOCK = 8;
const PARALLEL = 1;
const KEYLEN = 32;

function scrypt(password: string, salt: Buffer, N: number, r: number, p: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scryptCb(password, salt, KEYLEN, { N, r, p, maxmem: 256 * N * r + 1024 * 1024 }, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

/** Hashes a password with scrypt: `scrypt$N$r$p$<salt>$<hash>` (base64url parts). */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(password, salt, COST, BLOCK, PARALLEL);
  return `scrypt$${COST}$${BLOCK}$${PARALLEL}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

/** True when `password` matches a hash made by hashPassword. */
export async function verifyPassword(password: string, stored: string | null): Promise<boolean> {
  if (stored === null) return false;
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [, n, r, p, salt = '', hash = ''] = parts;
  const N = Number(n);
  const R = Number(r);
  const P = Number(p);
  if (![N, R, P].every((x) => Number.isInteger(x) && x > 0) || N > 1 << 20) return false;
  const expected = Buffer.from(hash, 'base64url');
  if (expected.length !== KEYLEN) return false;
  const key = await scrypt(password, Buffer.from(salt, 'base64url'), N, R, P);
  return timingSafeEqual(key, expected);
}
