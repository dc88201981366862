import { hkdfSync } from 'node:crypto';

/**
 * The 16-byte cookie keys RFC 9018 wants, one per cluster secret (first one first), derived from the
 * secrets so every node has the same. Derived by the thread that read the config, and handed to the
 * answer threads as bytes: an answer thread does not load node:crypto, which costs each thread about
 * 1 MB (README, "Threads": memory).
 */
export function cookieKeys(secrets: readonly string[]): Uint8Array[] {
  return secrets.map((secret) => new Uint8Array(hkdfSync('sha256', secret, Buffer.alloc(0), 'clusterdns dns cookie v1', 16)));
}
