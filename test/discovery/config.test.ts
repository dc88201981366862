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

  it('takes ACL users, and a redis check its role', () => {
    const c = parseConfig(`${BASE}discovery: { enabled: true, users: [{ name: bob, password: pw }] }\nservices: [{ name: db, port: 6379, check: { type: redis, role: master } }]\n`);
    expect(c.discovery.users).toEqual([{ name: 'bob', password: 'pw' }]);
    expect(c.services[0].check?.role).toBe('master');
  });

  it.each([
    ['discovery: { port: 0 }', 'discovery.port: must be a port number (1–65535)'],
    ['discovery: { enabled: yes please }', 'discovery.enabled'],
    ['discovery: { password: "" }', 'discovery.password: password must not be empty: leave it out for no password'],
    ['discovery: { prot: 8001 }', 'discovery: unknown key "prot"'],
    ['discovery: { users: [{ name: default, password: x }] }', "the default user's password is discovery.password"],
    ['discovery: { users: [{ name: "a b", password: x }] }', 'a user name is 1 to 128 printable characters without spaces'],
    ['discovery: { users: [{ name: bob, password: "" }] }', 'password must not be empty'],
    ['discovery: { users: [{ name: bob, password: x }, { name: bob, password: y }] }', 'each user name once'],
    ['services: [{ name: web, port: 80, check: { type: http, role: master } }]', 'role is for redis checks'],
    ['discovery: { tls: { port: 8002, certFile: c.pem, keyFile: k.pem } }', 'authClients optional or yes checks client certificates against caFile'],
    ['discovery: { tls: { port: 8002, certFile: c.pem, keyFile: k.pem, authClients: maybe } }', 'authClients must be no, optional or yes'],
    ['services: [{ name: db, port: 6379, check: { type: redis, role: primary } }]', 'role must be master or replica'],
  ])('%s is refused, naming the field', (line, message) => {
    expect(problems(`${BASE}${line}\n`)).toContain(message);
  });
});
