import { connect } from 'node:net';
import type { CheckConfig } from '../config/types';
import { hostPort } from '../net/host-port';
import { withDeadline } from './deadline';
import { encodeCommand, ReplyLines } from './resp';
import { errorText, fail, pass, printable, type Outcome, type ProbeResult } from './result';

const DEFAULT_PORT = 6379;

/**
 * Healthy only when `PING` is answered `+PONG`. A Redis that accepts connections can still be
 * useless — loading its dataset (`-LOADING`), a replica cut off from its master (`-MASTERDOWN`),
 * or asking for a password (`-NOAUTH`) — so anything else is unhealthy, with the reply as reason.
 * With `role`, `ROLE` must also name that role (`master`, or `slave` for `replica`): a service
 * over replicated Redis then answers the current primary only, wherever failover put it, and a
 * restarted old primary that rejoined as a replica is not answered again. AUTH, PING and ROLE are
 * pipelined: one round trip, so the timeout budget is spent on the server.
 */
export function probeRedis(check: CheckConfig, host: string, signal?: AbortSignal): Promise<ProbeResult> {
  return withDeadline(check.timeoutMs, signal, (attempt) => {
    const port = check.port ?? DEFAULT_PORT;
    const target = hostPort(host, port);
    attempt.stage = `connecting to ${target}`;
    return new Promise<Outcome>((resolve) => {
      const socket = connect({ host, port });
      attempt.signal.addEventListener('abort', () => socket.destroy(), { once: true });
      const expected: Array<'AUTH' | 'PING' | 'ROLE'> = [...(check.password !== undefined ? (['AUTH'] as const) : []), 'PING', ...(check.role ? (['ROLE'] as const) : [])];
      const lines = new ReplyLines();
      // ROLE's reply is an array: `*n`, `$len`, then the role's name.
      let roleLines: string[] = [];

      socket.on('connect', () => {
        socket.setNoDelay(true);
        const auth = check.password !== undefined ? [encodeCommand(['AUTH', check.password])] : [];
        socket.write(Buffer.concat([...auth, encodeCommand(['PING']), ...(check.role ? [encodeCommand(['ROLE'])] : [])]));
        attempt.stage = `waiting for ${expected[0]} reply from ${target}`;
      });
      socket.on('data', (chunk: Buffer) => {
        const got = lines.push(chunk);
        if (got === 'overflow') return resolve(fail(`unexpected reply from ${target}: no line end within 4 KiB`));
        for (const line of got) {
          if (expected[0] === 'ROLE') {
            roleLines.push(line);
            if (line.startsWith('-')) return resolve(fail(`ROLE to ${target} answered ${printable(line)}`));
            if (roleLines.length < 3) continue;
            const role = roleLines[2];
            const want = check.role === 'replica' ? 'slave' : 'master';
            roleLines = [];
            return resolve(role === want ? pass(`PONG, role ${role}`) : fail(`${target} is a ${role === 'slave' ? 'replica' : printable(role)}, not a ${check.role}`));
          }
          const command = expected.shift();
          if (command === 'AUTH') {
            if (line !== '+OK') return resolve(fail(`AUTH refused by ${target}: ${printable(line)}`));
            attempt.stage = `waiting for PING reply from ${target}`;
          } else if (command === 'PING') {
            if (line !== '+PONG') return resolve(fail(`PING to ${target} answered ${printable(line)}`));
            if (!check.role) return resolve(pass('PONG'));
            attempt.stage = `waiting for ROLE reply from ${target}`;
          }
        }
      });
      socket.on('error', (e) => resolve(fail(errorText(e))));
      socket.on('close', () => resolve(fail(`connection closed while ${attempt.stage}`)));
    });
  });
}
