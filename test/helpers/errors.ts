import { expect } from 'vitest';
import { ClusterDnsError } from '../../src/errors';

/** Awaits a promise that must reject with a ClusterDnsError, and returns that error. */
export async function rejection(p: Promise<unknown>): Promise<ClusterDnsError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(ClusterDnsError);
  return e as ClusterDnsError;
}
