import { createHash, createPublicKey, generateKeyPairSync, X509Certificate } from 'node:crypto';

/**
 * OpenSSH public keys: parsing (what pyca/cryptography's load_ssh_public_key
 * accepts), Nova's MD5 fingerprint, and RSA key generation as Nova's
 * paramiko-based generator does it.
 */

export class InvalidKey extends Error {}

/** Reads SSH wire-format fields (RFC 4251 `string` / `mpint`). */
class Reader {
  private off = 0;
  constructor(private readonly buf: Buffer) {}
  string(): Buffer {
    if (this.off + 4 > this.buf.length) throw new InvalidKey('Key is not in the proper format');
    const len = this.buf.readUInt32BE(this.off);
    this.off += 4;
    if (this.off + len > this.buf.length) throw new InvalidKey('Key is not in the proper format');
    const out = this.buf.subarray(this.off, this.off + len);
    this.off += len;
    return out;
  }
  text(): string {
    return this.string().toString('latin1');
  }
  mpint(): bigint {
    const b = this.string();
    if (b.length === 0) return 0n;
    if ((b[0] ?? 0) & 0x80) throw new InvalidKey('Invalid mpint: negative');
    return BigInt(`0x${b.toString('hex')}`);
  }
  done(): boolean {
    return this.off === this.buf.length;
  }
}

const b64url = (n: bigint): string => {
  let hex = n.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  return Buffer.from(hex, 'hex').toString('base64url');
};

const CURVES: Record<string, { crv: string; size: number }> = {
  nistp256: { crv: 'P-256', size: 32 },
  nistp384: { crv: 'P-384', size: 48 },
  nistp521: { crv: 'P-521', size: 66 },
};

function bitLength(n: bigint): number {
  return n === 0n ? 0 : n.toString(2).length;
}

/** Python's lenient base64 decode (binascii.a2b_base64, non-strict): non-alphabet characters are skipped. */
function lenientBase64(s: string): Buffer {
  const clean = s.replace(/[^A-Za-z0-9+/=]/g, '');
  const body = clean.split('=')[0] ?? '';
  if (body.length % 4 === 1) throw new InvalidKey('Incorrect padding');
  return Buffer.from(body, 'base64');
}

/** Parses the key blob of one key type; throws InvalidKey when it is not a valid key. */
function checkBlob(keyType: string, blob: Buffer): void {
  const r = new Reader(blob);
  const inner = r.text();
  if (inner !== keyType) throw new InvalidKey('Key header and key body contain different key type values.');
  switch (keyType) {
    case 'ssh-rsa': {
      const e = r.mpint();
      const n = r.mpint();
      if (n < 3n || e < 3n || e >= n || e % 2n === 0n) throw new InvalidKey('Invalid RSA public numbers');
      createPublicKey({ key: { kty: 'RSA', n: b64url(n), e: b64url(e) }, format: 'jwk' });
      break;
    }
    case 'ssh-dss': {
      const p = r.mpint();
      const q = r.mpint();
      const g = r.mpint();
      const y = r.mpint();
      if (![1024, 2048, 3072, 4096].includes(bitLength(p)) || ![160, 224, 256].includes(bitLength(q))) {
        throw new InvalidKey('Invalid DSA parameters');
      }
      if (g <= 1n || g >= p || y <= 1n || y >= p) throw new InvalidKey('Invalid DSA public numbers');
      break;
    }
    case 'ecdsa-sha2-nistp256':
    case 'ecdsa-sha2-nistp384':
    case 'ecdsa-sha2-nistp521': {
      const curveName = r.text();
      const curve = CURVES[keyType.slice('ecdsa-sha2-'.length)];
      if (!curve || curveName !== keyType.slice('ecdsa-sha2-'.length)) throw new InvalidKey('Curve name mismatch.');
      const point = r.string();
      if (point.length !== 1 + 2 * curve.size || point[0] !== 0x04) throw new InvalidKey('Compressed elliptic curve points are not supported');
      createPublicKey({
        key: {
          kty: 'EC',
          crv: curve.crv,
          x: point.subarray(1, 1 + curve.size).toString('base64url'),
          y: point.subarray(1 + curve.size).toString('base64url'),
        },
        format: 'jwk',
      });
      break;
    }
    case 'ssh-ed25519': {
      const pk = r.string();
      if (pk.length !== 32) throw new InvalidKey('Invalid Ed25519 key');
      createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: pk.toString('base64url') }, format: 'jwk' });
      break;
    }
    default:
      throw new InvalidKey('Key type is not supported.');
  }
  if (!r.done()) throw new InvalidKey('Key body contains extra bytes.');
}

/**
 * Validates an OpenSSH public key line (`<type> <base64> [comment]`) as
 * pyca/cryptography does; throws InvalidKey otherwise.
 */
export function parseSshPublicKey(publicKey: string): { type: string; blob: Buffer } {
  const m = /^(\S+)[ \t]+(\S+)/.exec(publicKey);
  const type = m?.[1];
  const body = m?.[2];
  if (type === undefined || body === undefined) {
    throw new InvalidKey('Key is not in the proper format or contains extra data.');
  }
  let blob: Buffer;
  try {
    blob = lenientBase64(body);
  } catch {
    throw new InvalidKey('Key is not in the proper format.');
  }
  try {
    checkBlob(type, blob);
  } catch (err) {
    if (err instanceof InvalidKey) throw err;
    throw new InvalidKey('Invalid key');
  }
  return { type, blob };
}

/** `aa:bb:...` of a digest. */
function colonHex(buf: Buffer): string {
  return (buf.toString('hex').match(/../g) ?? []).join(':');
}

/**
 * Nova's SSH fingerprint: MD5 of the decoded key blob (the second
 * space-separated field), colon-separated lowercase hex. Throws InvalidKey
 * when the key does not parse.
 */
export function sshFingerprint(publicKey: string): string {
  parseSshPublicKey(publicKey);
  const field = publicKey.split(' ')[1] ?? '';
  return colonHex(createHash('md5').update(lenientBase64(field)).digest());
}

/** SHA-1 fingerprint of a PEM certificate, colon-separated lowercase hex (Nova's x509 keypair fingerprint). */
export function x509Fingerprint(pem: string): string {
  const cert = new X509Certificate(pem);
  return cert.fingerprint.toLowerCase();
}

function sshString(b: Buffer | string): Buffer {
  const data = typeof b === 'string' ? Buffer.from(b, 'latin1') : b;
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  return Buffer.concat([len, data]);
}

function sshMpint(unsignedBigEndian: Buffer): Buffer {
  let i = 0;
  while (i < unsignedBigEndian.length - 1 && unsignedBigEndian[i] === 0) i++;
  let b = unsignedBigEndian.subarray(i);
  if ((b[0] ?? 0) & 0x80) b = Buffer.concat([Buffer.from([0]), b]);
  return sshString(b);
}

export interface GeneratedSshKey {
  /** PKCS#1 PEM (`-----BEGIN RSA PRIVATE KEY-----`), as paramiko writes it. */
  privateKey: string;
  /** `ssh-rsa AAAA... Generated-by-Nova` */
  publicKey: string;
  fingerprint: string;
}

/** A new RSA key pair in Nova's format. */
export function generateSshKey(bits = 2048): GeneratedSshKey {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: bits, publicExponent: 65537 });
  const jwk = publicKey.export({ format: 'jwk' });
  if (jwk.n === undefined || jwk.e === undefined) throw new Error('RSA key export failed');
  const blob = Buffer.concat([
    sshString('ssh-rsa'),
    sshMpint(Buffer.from(jwk.e, 'base64url')),
    sshMpint(Buffer.from(jwk.n, 'base64url')),
  ]);
  const pub = `ssh-rsa ${blob.toString('base64')} Generated-by-Nova`;
  return {
    privateKey: privateKey.export({ type: 'pkcs1', format: 'pem' }).toString(),
    publicKey: pub,
    fingerprint: colonHex(createHash('md5').update(blob).digest()),
  };
}
