import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load';
import { ClusterDnsError } from '../../src/errors';

const BASE = `zone: cluster.test
secret: "${'s'.repeat(40)}"
nodes:
  - { name: node1, address: 192.0.2.1 }
`;

const problems = (yaml: string): string => {
  try {
    parseConfig(yaml);
  } catch (e) {
    if (e instanceof ClusterDnsError) return e.format();
    throw e;
  }
  throw new Error('config was accepted');
};

describe('discovery config', () => {
  it('is off on port 8001 unless asked for, and takes an optional password', () => {
    expect(parseConfig(BASE).discovery).toEqual({ port: 8001, enabled: false });
    expect(parseConfig(`${BASE}discovery: { enabled: true, password: pw }\n`).discovery).toEqual({ port: 8001, enabled: true, password: 'pw' });
  });

  it.each([
    ['discovery: { port: 0 }', 'discovery.port: must be a port number (1–65535)'],
    ['discovery: { enabled: yes please }', 'discovery.enabled'],
    ['discovery: { password: "" }', 'discovery.password: password must not be empty: leave it out for no password'],
    ['discovery: { prot: 8001 }', 'discovery: unknown key "prot"'],
  ])('%s is refused, naming the field', (line, message) => {
    expect(problems(`${BASE}${line}\n`)).toContain(message);
  });
});
