import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import { generateSshKey, InvalidKey, parseSshPublicKey, sshFingerprint, x509Fingerprint } from './ssh-keys.js';
import { generateX509 } from './x509.js';
import { validateExtraSpec } from './extra-specs.js';
import { ApiError } from '../../errors.js';

// Keys made with ssh-keygen; fingerprints from `ssh-keygen -l -E md5`.
export const ED25519 = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE/Q4gpKI9ApTPB1ZyvfZb1Bi1ng/PaW96sxkjZMQbjw me@host';
export const ED25519_FP = '7f:79:82:9e:a7:69:fb:de:a9:ae:f9:5e:a1:64:98:54';
const ECDSA =
  'ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBO483u58GK/8fU685VOmgyfTM/af4wxH0pgdw6ds+qmJ6xzHPXd1HX21GSl4RZ2LP084Z9frwaedPeIoW5kgQKg= ec@host';
const RSA =
  'ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQDC+AdDZRbTpDzNgIkJeiggh+DX6E1KOtjjJbZ7t4e82NouI5WPLunM8jmJNCwWR6mukDE8NqmMlg1MWEGM0JOmNJwg3t3/BdcoItbFUUTZnOpD+FBbDXJ9o2jA7s2bHHAFWbTTb5WDvqKRHR5R/g+ENwnuCLMPjQocBFQGjRJsZQ== rsa@host';

describe('ssh keys', () => {
  it('fingerprints like ssh-keygen -E md5', () => {
    assert.equal(sshFingerprint(ED25519), ED25519_FP);
    assert.equal(sshFingerprint(ECDSA), '72:81:33:6a:19:fb:0a:0b:b0:9b:3b:1a:a5:de:6c:8f');
    assert.equal(sshFingerprint(RSA), '79:f9:f0:da:69:f2:aa:df:11:c3:cc:c4:8f:32:41:26');
    assert.equal(sshFingerprint(`${ED25519}\n`), ED25519_FP);
    assert.equal(sshFingerprint(ED25519.split(' ').slice(0, 2).join(' ')), ED25519_FP);
  });

  it('rejects what is not an OpenSSH public key', () => {
    const bad = [
      '',
      'garbage',
      'ssh-rsa',
      'ssh-rsa AAAA',
      'ssh-rsa notbase64!!!',
      // type in the header differs from the blob's
      ED25519.replace('ssh-ed25519', 'ssh-rsa'),
      // truncated blob
      ED25519.slice(0, 40),
      // trailing bytes in the blob
      `ssh-ed25519 ${Buffer.concat([Buffer.from(ED25519.split(' ')[1] ?? '', 'base64'), Buffer.from([0, 0, 0, 0])]).toString('base64')}`,
      'ssh-foo AAAAB3NzaC1mb28=',
      '-----BEGIN PUBLIC KEY-----\nMIIBIjAN\n-----END PUBLIC KEY-----',
    ];
    for (const k of bad) assert.throws(() => parseSshPublicKey(k), InvalidKey, k);
  });

  it('generates an RSA pair: PKCS#1 PEM private key matching an ssh-rsa public key', () => {
    const g = generateSshKey(1024);
    assert.match(g.privateKey, /^-----BEGIN RSA PRIVATE KEY-----\n/);
    assert.match(g.publicKey, /^ssh-rsa AAAAB3NzaC1yc2E\S+ Generated-by-Nova$/);
    assert.equal(g.fingerprint, sshFingerprint(g.publicKey));
    const fromPrivate = createPublicKey(createPrivateKey(g.privateKey)).export({ format: 'jwk' });
    const blob = parseSshPublicKey(g.publicKey).blob;
    // the modulus is the last mpint of the blob
    assert.ok(blob.toString('hex').endsWith(Buffer.from(fromPrivate.n ?? '', 'base64url').toString('hex')));
  });
});

describe('x509 key pairs', () => {
  it('generates a self-signed client certificate and a PKCS#12 bundle', () => {
    const g = generateX509('user-1', Date.parse('2026-01-01T00:00:00Z'), 1024);
    const cert = new X509Certificate(g.certificate);
    assert.equal(cert.subject, 'CN=user-1');
    assert.equal(cert.issuer, 'CN=user-1');
    assert.equal(cert.validFrom, 'Jan  1 00:00:00 2026 GMT');
    assert.ok(cert.verify(cert.publicKey));
    assert.match(cert.subjectAltName ?? '', /user-1@localhost/);
    assert.match(x509Fingerprint(g.certificate), /^([0-9a-f]{2}:){19}[0-9a-f]{2}$/);
    const p12 = Buffer.from(g.privateKey, 'base64');
    assert.equal(p12[0], 0x30);
  });

  it('rejects a non-certificate', () => {
    assert.throws(() => x509Fingerprint('not a cert'));
  });
});

describe('extra spec validation (2.86)', () => {
  const ok = (k: string, v: string) => assert.doesNotThrow(() => validateExtraSpec(k, v), `${k}=${v}`);
  const bad = (k: string, v: string, message: string) =>
    assert.throws(
      () => validateExtraSpec(k, v),
      (e: unknown) => e instanceof ApiError && e.status === 400 && e.message === message,
    );

  it('accepts valid and unknown-namespace specs', () => {
    ok('hw:cpu_policy', 'dedicated');
    ok('hw:numa_nodes', '2');
    ok('hw:numa_cpus.0', '0-3,^2');
    ok('hw:mem_page_size', '2MB');
    ok('hw_rng:allowed', 'True');
    ok('quota:disk_read_bytes_sec', '1024');
    ok('quota:vif_inbound_average', '10');
  });

  it('rejects bad values with Nova messages', () => {
    bad('hw:cpu_policy', 'bogus', "Validation failed; 'bogus' is not one of: dedicated, shared, mixed.");
    bad('hw:numa_nodes', 'x', "Validation failed; 'x' is not a valid integer value.");
    bad('hw:numa_nodes', '0', "Validation failed; '0' is less than the min value of '1'.");
    bad('hw_rng:allowed', 'maybe', "Validation failed; 'maybe' is not a valid boolean-like value.");
    bad('hw:redirected_usb_ports', '16', "Validation failed; '16' is greater than the max value of '15'.");
    bad('hw_rng:bogus', '1', "Validation failed; extra spec 'hw_rng:bogus' does not appear to be a valid extra spec.");
    bad('quota:bogus', '1', "Validation failed; extra spec 'quota:bogus' does not appear to be a valid extra spec.");
    bad('resources:FOO', '1', "Validation failed; extra spec 'resources:FOO' does not appear to be a valid extra spec.");
  });

  it('handles resources and traits with groups', () => {
    ok('resources:VCPU', '2');
    ok('resources1:CUSTOM_GPU', '1');
    ok('trait:HW_CPU_X86_AVX2', 'required');
    ok('trait_grp:CUSTOM_X', 'forbidden');
    bad('trait:HW_CPU_X86_AVX2', 'yes', "Validation failed; 'yes' is not one of: required, forbidden.");
    ok('key1', 'value1');
    ok('custom:thing', 'anything');
  });
});
