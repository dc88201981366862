import { createPublicKey, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import { nameToWire } from '../wire/name';
import type { Dnskey, Record, Rrsig } from '../wire/records';
import { MessageWriter } from '../wire/writer';
import { Algorithm, keyTag } from './keys';
import { canonicalRdatas } from './signer';

/**
 * RFC 4035 §5.3: whether `sig` by `key` covers `rrset` (owner, type, class shared; no wildcard
 * expansion, which this zone never has). Time is not judged here: the caller compares it.
 */
export function verifyRRset(rrset: readonly Record[], sig: Rrsig, key: Dnskey): boolean {
  if (rrset.length === 0 || sig.algorithm !== key.algorithm || sig.keyTag !== keyTag(key)) return false;
  const first = rrset[0];
  const w = new MessageWriter(512, true);
  w.rrsigFields(sig);
  const owner = nameToWire(first.name);
  for (const rd of canonicalRdatas(rrset.map((r) => r.data))) w.bytes(owner).u16(first.data.type).u16(first.class).u32(sig.originalTtl).u16(rd.length).bytes(rd);
  const data = w.slice(0);
  let pub: KeyObject;
  try {
    pub = publicKeyObject(key);
  } catch {
    return false;
  }
  return key.algorithm === Algorithm.ED25519
    ? cryptoVerify(null, data, pub, sig.signature)
    : cryptoVerify('sha256', data, { key: pub, dsaEncoding: 'ieee-p1363' }, sig.signature);
}

function publicKeyObject(key: Dnskey): KeyObject {
  const k = Buffer.from(key.publicKey);
  const jwk =
    key.algorithm === Algorithm.ED25519
      ? { kty: 'OKP', crv: 'Ed25519', x: k.toString('base64url') }
      : { kty: 'EC', crv: 'P-256', x: k.subarray(0, 32).toString('base64url'), y: k.subarray(32).toString('base64url') };
  return createPublicKey({ key: jwk, format: 'jwk' });
}
