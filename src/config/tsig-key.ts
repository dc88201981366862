import { readFileSync } from 'node:fs';
import { ClusterDnsError } from '../errors';
import { nameToWire } from '../wire/name';
import { TSIG_ALGORITHMS, type TsigAlgorithm, type TsigKey } from '../wire/tsig';

/**
 * TSIG key files in the format tsig-keygen writes, named.conf includes and nsupdate -k reads. The
 * file and its errors are the user's side; src/wire/tsig.ts takes the parsed key and bytes.
 */

function keyError(path: string, what: string): ClusterDnsError {
  return new ClusterDnsError('TSIG_KEY', `TSIG key file ${path}: ${what}`, {
    details: ['write it with: tsig-keygen -a hmac-sha256 <key-name> > <file> (the same file nsupdate -k reads)'],
  });
}

/** Reads the first `key` clause of the file's text. */
export function parseTsigKeyFile(text: string, path = 'key file'): TsigKey {
  // Comments go, quoted strings stay: a base64 secret may well contain "//".
  const clean = text.replace(/"[^"]*"|\/\*[\s\S]*?\*\/|(?:#|\/\/)[^\n]*/g, (m) => (m.startsWith('"') ? m : ''));
  const m = /key\s+(?:"([^"]+)"|([^\s{]+))\s*\{([^}]*)\}\s*;/.exec(clean);
  if (!m) throw keyError(path, 'no key "name" { algorithm …; secret "…"; }; clause found');
  const name = (m[1] ?? m[2]).toLowerCase().replace(/\.$/, '');
  if (!isWireName(name)) throw keyError(path, `key name "${name}" is not a domain name (labels of 1–63 bytes, 255 in all)`);
  const body = m[3];
  const alg = /algorithm\s+"?([A-Za-z0-9.-]+)"?\s*;/.exec(body)?.[1]?.toLowerCase().replace(/\.$/, '');
  const secret = /secret\s+"([^"]*)"\s*;/.exec(body)?.[1];
  if (!alg) throw keyError(path, `key "${name}" has no algorithm`);
  const algorithm = (alg === 'hmac-md5.sig-alg.reg.int' ? 'hmac-md5' : alg) as TsigAlgorithm;
  if (!(algorithm in TSIG_ALGORITHMS))
    throw keyError(path, `algorithm ${alg} is not supported (use one of ${Object.keys(TSIG_ALGORITHMS).join(', ')})`);
  if (secret === undefined || !/^[A-Za-z0-9+/=\s]+$/.test(secret)) throw keyError(path, `key "${name}" has no base64 secret`);
  const bytes = Buffer.from(secret.replace(/\s/g, ''), 'base64');
  if (bytes.length === 0) throw keyError(path, `key "${name}" has an empty secret`);
  return { name, algorithm, secret: bytes };
}

function isWireName(name: string): boolean {
  try {
    nameToWire(name);
    return true;
  } catch {
    return false;
  }
}

export function readTsigKeyFile(path: string): TsigKey {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw keyError(path, `cannot read it (${(e as NodeJS.ErrnoException).code ?? e})`);
  }
  return parseTsigKeyFile(text, path);
}
