import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { loadConfig } from '../config/load';
import { ClusterDnsError } from '../errors';
import { allUpInputs } from '../zone/inputs';
import type { DnssecConfig } from '../config/types';
import { signZone } from '../dnssec/sign-zone';
import { Signer } from '../dnssec/signer';
import { Type } from '../wire/constants';
import type { Record } from '../wire/records';
import { buildZone, type ZoneData } from '../zone/zone';
import { zoneFileText } from '../zone/zonefile';

export function registerZone(program: Command): void {
  const zone = program.command('zone').description('work with the cluster zone itself');
  zone
    .command('export')
    .description('print the cluster zone as an RFC 1035 master file (every node up; signed when dnssec is set), for NSD, BIND or Knot')
    .requiredOption('-c, --config <file>', 'cluster YAML file')
    .option('--serial <n>', 'SOA serial (default: the current Unix time, as the agent starts with)')
    .option('-o, --output <file>', 'write the zone to this file instead of standard output')
    .action((opts: { config: string; serial?: string; output?: string }) => {
      const config = loadConfig(opts.config);
      const serial = opts.serial === undefined ? Math.floor(Date.now() / 1000) : parseSerial(opts.serial);
      const zone = buildZone(config, allUpInputs(config, serial));
      const data = config.dnssec ? signedZoneData(config.zone, config.dnssec, zone) : zone;
      const restricted = config.dns.internalFrom
        ? `\ninternal.${config.zone} names answer only clients in ${config.dns.internalFrom.join(', ')} from the agents; a server loading this file answers them to anyone`
        : '';
      const text = zoneFileText(data, {
        header: `${config.zone}: written by clusterdns zone export from ${opts.config} (config hash ${config.hash}), every node up${restricted}`,
      });
      if (opts.output === undefined) {
        process.stdout.write(text);
        return;
      }
      try {
        writeFileSync(opts.output, text);
      } catch (e) {
        throw new ClusterDnsError('USAGE', `cannot write ${opts.output}: ${(e as NodeJS.ErrnoException).code ?? e}`, {
          exitCode: 1,
          details: ['check that the directory exists and is writable, or leave out --output to print the zone'],
        });
      }
    });
}

/** The zone as signed now, with every RRSIG as an RRset of its own, for dnssec-verify and any signer's tools. */
function signedZoneData(apex: string, d: DnssecConfig, zone: ZoneData): ZoneData {
  const signer = new Signer(apex, d.keys, { validity: d.validity, refresh: d.refresh });
  const s = signZone(zone, signer, Math.floor(Date.now() / 1000));
  const names = new Map<string, Map<number, readonly Record[]>>();
  for (const [name, types] of s.zone.names) {
    const sigs = [...(s.sigs.get(name)?.values() ?? [])].flat();
    names.set(name, sigs.length ? new Map([...types, [Type.RRSIG, sigs]]) : new Map(types));
  }
  return { ...s.zone, names };
}

function parseSerial(s: string): number {
  if (!/^\d+$/.test(s) || Number(s) > 0xffffffff) {
    throw new ClusterDnsError('USAGE', `--serial ${s} is not a SOA serial — give a whole number from 0 to 4294967295`);
  }
  return Number(s);
}
