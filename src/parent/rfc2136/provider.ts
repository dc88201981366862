import { randomInt } from 'node:crypto';
import { ClusterDnsError } from '../../errors';
import { signRequest, verifyResponse, type TsigKey } from '../../wire/tsig';
import type { Plan } from '../plan';
import type { ParentZoneProvider } from '../provider';
import type { DesiredDelegation, RRset } from '../records';
import { checkAuthoritative, readDelegation } from './read';
import { exchange, formatServer, type ServerAddress } from './transport';
import { encodeUpdate, updateSections } from './update';

export interface Rfc2136Options {
  readonly server: ServerAddress;
  /** The parent zone: the UPDATE's zone section. */
  readonly parentZone: string;
  readonly key: TsigKey;
  readonly timeoutMs: number;
}

const RCODES: Record<number, string> = {
  0: 'NOERROR', 1: 'FORMERR', 2: 'SERVFAIL', 3: 'NXDOMAIN', 4: 'NOTIMP', 5: 'REFUSED',
  6: 'YXDOMAIN', 7: 'YXRRSET', 8: 'NXRRSET', 9: 'NOTAUTH', 10: 'NOTZONE',
};

const UNCHANGED = 'the parent was not changed';

export function rfc2136Provider(opts: Rfc2136Options): ParentZoneProvider {
  const server = formatServer(opts.server);
  return {
    where: `zone ${opts.parentZone} on ${server} (RFC 2136)`,
    async read(desired: DesiredDelegation): Promise<RRset[]> {
      const q = { server: opts.server, timeoutMs: opts.timeoutMs };
      await checkAuthoritative(q, opts.parentZone);
      const hosts = desired.rrsets.filter((r) => r.type !== 'NS').map((r) => r.name);
      return readDelegation(q, desired.zone, hosts);
    },
    async apply(plan: Plan, progress): Promise<string> {
      const id = randomInt(0, 0x10000);
      const unsigned = encodeUpdate(id, opts.parentZone, updateSections(plan));
      const signed = signRequest(unsigned, opts.key);
      progress(`sending one UPDATE (${plan.changes.length} RRset change${plan.changes.length > 1 ? 's' : ''}) signed with TSIG key ${opts.key.name} to ${server}`);
      const raw = await exchange(opts.server, signed.message, {
        timeoutMs: opts.timeoutMs,
        failCode: 'PARENT_APPLY',
        what: 'UPDATE',
        // An unanswered UPDATE may still have been applied; only a fresh read can tell.
        timeoutDetails: ['the server may or may not have applied it: run the plan again (without --apply) to see the parent as it is'],
      });
      if (raw.length < 12 || raw.readUInt16BE(0) !== id)
        throw new ClusterDnsError('PARENT_APPLY', `${server} answered the UPDATE with a malformed message or the wrong message id`, {
          details: ['run the plan again (without --apply) to see whether the parent changed'],
        });
      const rcode = raw.readUInt16BE(2) & 0xf;
      const verdict = verifyResponse(raw, opts.key, signed.mac);
      if (rcode === 0) {
        if (!verdict.ok)
          throw new ClusterDnsError('PARENT_AUTH', `${server} accepted the UPDATE but its response failed TSIG verification (${verdict.reason})`, {
            details: ['the response may be forged or the key differs: check the parent with a fresh plan (run without --apply)'],
          });
        return `${server} applied ${plan.changes.length} change${plan.changes.length > 1 ? 's' : ''} to ${opts.parentZone} in one UPDATE`;
      }
      throw updateError(server, opts, rcode, verdict.ok ? undefined : 'error' in verdict ? verdict.error : undefined);
    },
  };
}

function updateError(server: string, opts: Rfc2136Options, rcode: number, tsigError: string | undefined): ClusterDnsError {
  const name = RCODES[rcode] ?? `rcode ${rcode}`;
  if (tsigError === 'BADKEY')
    return new ClusterDnsError('PARENT_AUTH', `${server} does not know TSIG key ${opts.key.name} (${name}/BADKEY); ${UNCHANGED}`, {
      details: ['use the key file the server has configured for the parent zone (--tsig-key-file), with the same key name and algorithm'],
    });
  if (tsigError === 'BADSIG')
    return new ClusterDnsError('PARENT_AUTH', `${server} rejected the signature of TSIG key ${opts.key.name} (${name}/BADSIG): the secret differs; ${UNCHANGED}`, {
      details: ['use the key file the server has configured (--tsig-key-file); its secret does not match'],
    });
  if (tsigError === 'BADTIME')
    return new ClusterDnsError('PARENT_AUTH', `${server} rejected the UPDATE's time (${name}/BADTIME); ${UNCHANGED}`, {
      details: ['this host\'s clock and the server\'s differ by more than 5 minutes: fix the clock (NTP) and run again'],
    });
  if (rcode === 5)
    return new ClusterDnsError('PARENT_AUTH', `${server} refused the UPDATE to ${opts.parentZone} (REFUSED); ${UNCHANGED}`, {
      details: [`allow key ${opts.key.name} to update the zone on the server (BIND: update-policy { grant ${opts.key.name} zonesub ANY; };)`],
    });
  if (rcode === 9)
    return new ClusterDnsError('PARENT_NOT_FOUND', `${server} is not authoritative for ${opts.parentZone} or not its primary (NOTAUTH); ${UNCHANGED}`, {
      details: ['send the UPDATE to the primary of the parent zone (--server) and check --zone'],
    });
  if (rcode === 7 || rcode === 8 || rcode === 6 || rcode === 3)
    return new ClusterDnsError('PARENT_APPLY', `the delegation in ${opts.parentZone} changed after it was read (${name}: a prerequisite failed); ${UNCHANGED}`, {
      details: ['someone else changed it meanwhile: run the plan again (without --apply), check it, then apply'],
    });
  return new ClusterDnsError('PARENT_APPLY', `${server} rejected the UPDATE with ${name}; ${UNCHANGED}`, {
    details: rcode === 4 ? ['the server does not accept DNS UPDATE (RFC 2136) for this zone'] : ['see the server\'s log for why'],
  });
}
