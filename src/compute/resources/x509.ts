import { createHash, createHmac, generateKeyPairSync, randomBytes, sign } from 'node:crypto';

/**
 * x509 key pairs (keypair type `x509`, microversions 2.2 to 2.91): a
 * self-signed client certificate for WinRM (CN=<user>, UPN <user>@localhost,
 * clientAuth), returned as PEM, with the private key as a base64 PKCS#12
 * bundle protected by an empty password, as Nova's openssl recipe produces.
 * Written with a minimal DER encoder; node:crypto has no certificate builder.
 */

function derLength(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

const tlv = (tag: number, content: Buffer): Buffer => Buffer.concat([Buffer.from([tag]), derLength(content.length), content]);
const seq = (...items: Buffer[]): Buffer => tlv(0x30, Buffer.concat(items));
const set = (...items: Buffer[]): Buffer => tlv(0x31, Buffer.concat(items));
const explicit = (n: number, content: Buffer): Buffer => tlv(0xa0 + n, content);
const octets = (b: Buffer): Buffer => tlv(0x04, b);
const utf8 = (s: string): Buffer => tlv(0x0c, Buffer.from(s, 'utf8'));
const nul = (): Buffer => Buffer.from([0x05, 0x00]);
const bitString = (b: Buffer): Buffer => tlv(0x03, Buffer.concat([Buffer.from([0]), b]));

function integer(v: number | Buffer): Buffer {
  let b = v;
  if (typeof b === 'number') {
    const hex = b.toString(16);
    b = Buffer.from(hex.length % 2 ? `0${hex}` : hex, 'hex');
  }
  let i = 0;
  while (i < b.length - 1 && b[i] === 0 && ((b[i + 1] ?? 0) & 0x80) === 0) i++;
  b = b.subarray(i);
  if ((b[0] ?? 0) & 0x80) b = Buffer.concat([Buffer.from([0]), b]);
  return tlv(0x02, b);
}

function oid(dotted: string): Buffer {
  const parts = dotted.split('.').map(Number);
  const [a = 0, b = 0, ...rest] = parts;
  const out: number[] = [a * 40 + b];
  for (const p of rest) {
    const stack: number[] = [p & 0x7f];
    for (let v = Math.floor(p / 128); v > 0; v = Math.floor(v / 128)) stack.unshift((v & 0x7f) | 0x80);
    out.push(...stack);
  }
  return tlv(0x06, Buffer.from(out));
}

function time(d: Date): Buffer {
  const p = (n: number) => String(n).padStart(2, '0');
  const body = `${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}Z`;
  const y = d.getUTCFullYear();
  return y < 2050 ? tlv(0x17, Buffer.from(`${String(y).slice(2)}${body}`)) : tlv(0x18, Buffer.from(`${y}${body}`));
}

const OID = {
  sha256WithRSA: '1.2.840.113549.1.1.11',
  commonName: '2.5.4.3',
  extKeyUsage: '2.5.29.37',
  subjectAltName: '2.5.29.17',
  clientAuth: '1.3.6.1.5.5.7.3.2',
  upn: '1.3.6.1.4.1.311.20.2.3',
  data: '1.2.840.113549.1.7.1',
  keyBag: '1.2.840.113549.1.12.10.1.1',
  certBag: '1.2.840.113549.1.12.10.1.3',
  x509Certificate: '1.2.840.113549.1.9.22.1',
  localKeyId: '1.2.840.113549.1.9.21',
  sha256: '2.16.840.1.101.3.4.2.1',
};

function toPem(der: Buffer, label: string): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/** RFC 7292 appendix B key derivation (one output block is enough for HMAC-SHA256). */
function pkcs12Kdf(password: Buffer, salt: Buffer, id: number, iterations: number): Buffer {
  const u = 32;
  const v = 64;
  const fill = (src: Buffer): Buffer => {
    if (src.length === 0) return Buffer.alloc(0);
    const len = v * Math.ceil(src.length / v);
    const out = Buffer.alloc(len);
    for (let i = 0; i < len; i++) out[i] = src[i % src.length] ?? 0;
    return out;
  };
  let a = Buffer.concat([Buffer.alloc(v, id), fill(salt), fill(password)]);
  for (let i = 0; i < iterations; i++) a = createHash('sha256').update(a).digest();
  return a.subarray(0, u);
}

function pkcs12(certDer: Buffer, keyPkcs8Der: Buffer): Buffer {
  const localKeyId = set(seq(oid(OID.localKeyId), set(octets(createHash('sha1').update(certDer).digest()))));
  const certBag = seq(
    oid(OID.certBag),
    explicit(0, seq(oid(OID.x509Certificate), explicit(0, octets(certDer)))),
    localKeyId,
  );
  const keyBag = seq(oid(OID.keyBag), explicit(0, keyPkcs8Der), localKeyId);
  const dataInfo = (content: Buffer) => seq(oid(OID.data), explicit(0, octets(content)));
  const authSafe = seq(dataInfo(seq(certBag)), dataInfo(seq(keyBag)));
  const salt = randomBytes(8);
  const iterations = 2048;
  // An empty password: the BMPString terminator only.
  const macKey = pkcs12Kdf(Buffer.from([0, 0]), salt, 3, iterations);
  const mac = createHmac('sha256', macKey).update(authSafe).digest();
  const macData = seq(seq(seq(oid(OID.sha256), nul()), octets(mac)), octets(salt), integer(iterations));
  return seq(integer(3), dataInfo(authSafe), macData);
}

export interface GeneratedX509 {
  /** base64 of the PKCS#12 bundle (certificate + key, empty password). */
  privateKey: string;
  /** The certificate, PEM. */
  certificate: string;
}

/** A new self-signed WinRM client certificate for `userId`, valid 3650 days from `now`. */
export function generateX509(userId: string, now: number, bits = 2048): GeneratedX509 {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: bits, publicExponent: 65537 });
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const name = seq(set(seq(oid(OID.commonName), utf8(userId))));
  const serial = randomBytes(16);
  serial[0] = (serial[0] ?? 0) & 0x7f;
  const sigAlg = seq(oid(OID.sha256WithRSA), nul());
  const extensions = explicit(
    3,
    seq(
      seq(oid(OID.extKeyUsage), octets(seq(oid(OID.clientAuth)))),
      seq(oid(OID.subjectAltName), octets(seq(tlv(0xa0, Buffer.concat([oid(OID.upn), explicit(0, utf8(`${userId}@localhost`))]))))),
    ),
  );
  const tbs = seq(
    explicit(0, integer(2)),
    integer(serial),
    sigAlg,
    name,
    seq(time(new Date(now)), time(new Date(now + 3650 * 86400_000))),
    name,
    spki,
    extensions,
  );
  const signature = sign('sha256', tbs, privateKey);
  const certDer = seq(tbs, sigAlg, bitString(signature));
  const keyDer = privateKey.export({ type: 'pkcs8', format: 'der' });
  return { privateKey: pkcs12(certDer, keyDer).toString('base64'), certificate: toPem(certDer, 'CERTIFICATE') };
}
