import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/** Absolute path of an installed program, or undefined. Looks in sbin too (named, nsd, unbound). */
export function findTool(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/local/sbin', '/sbin'];
  for (const d of dirs) {
    if (!d) continue;
    try {
      accessSync(join(d, name), constants.X_OK);
      return join(d, name);
    } catch {
      // not here
    }
  }
  return undefined;
}

const PACKAGES: Record<string, string> = {
  dig: 'bind9-dnsutils',
  kdig: 'knot-dnsutils',
  named: 'bind9',
  'named-checkzone': 'bind9-utils',
  'dnssec-keygen': 'bind9-utils',
  'dnssec-dsfromkey': 'bind9-utils',
  'dnssec-signzone': 'bind9-utils',
  'dnssec-verify': 'bind9-utils',
  delv: 'bind9-dnsutils',
  dnsviz: 'dnsviz',
  'zonemaster-cli': 'zonemaster-cli',
  nsd: 'nsd',
  'nsd-checkzone': 'nsd',
  knotd: 'knot',
  unbound: 'unbound',
  'redis-server': 'redis-server',
  dnsperf: 'dnsperf',
  chromium: 'chromium',
  ip: 'iproute2',
  ss: 'iproute2',
  taskset: 'util-linux',
  faketime: 'faketime',
  promtool: 'prometheus',
};

/**
 * The path of a program the test cannot do without. Missing, it fails the test with the package to
 * install: these tests exist to talk to real programs, so they never skip.
 */
export function requireTool(name: string): string {
  const path = findTool(name);
  if (!path) throw new Error(`${name} is not installed: apt-get install -y ${PACKAGES[name] ?? name} (.ci/run installs it)`);
  return path;
}
