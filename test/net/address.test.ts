import { describe, expect, it } from 'vitest';
import { addressKey, isUnspecified, sameAddress } from '../../src/net/address';

/** One spelling per address, so the config compares addresses, not strings. */
describe('addressKey', () => {
  it.each([
    ['10.0.0.1', '10.0.0.1'],
    ['fd00::1', 'fd00::1'],
    ['fd00:0::1', 'fd00::1'],
    ['FD00:0000:0000:0000:0000:0000:0000:0001', 'fd00::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['::ffff:10.0.0.1', '10.0.0.1'],
    ['0:0:0:0:0:FFFF:0a00:0001', '10.0.0.1'],
    ['::10.0.0.1', '::a00:1'],
    ['fe80::1%eth0', 'fe80::1%eth0'],
    ['FE80:0::1%Eth0', 'fe80::1%Eth0'],
    ['::ffff:10.0.0.1%eth0', '::ffff:a00:1%eth0'],
    ['0::0', '::'],
    ['localhost', undefined],
    ['10.0.0.256', undefined],
    ['', undefined],
  ])('%s → %s', (a, key) => {
    expect(addressKey(a)).toBe(key);
  });

  it('same address and the unspecified address, however written', () => {
    expect(sameAddress('fd00::1', 'fd00:0::1')).toBe(true);
    expect(sameAddress('fd00::1', 'fd00::2')).toBe(false);
    expect(sameAddress('nope', 'nope')).toBe(false);
    for (const a of ['0.0.0.0', '::', '0::0', '0:0:0:0:0:0:0:0']) expect(isUnspecified(a), a).toBe(true);
    for (const a of ['::1', '127.0.0.1', '::ffff:0.0.0.1']) expect(isUnspecified(a), a).toBe(false);
  });
});
