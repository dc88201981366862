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
 * AUTH and PING are pipelined: one round trip, so the timeout budget is spent on the server.
 */
export function probeRedis(check: CheckConfig, host: string, signal?: AbortSignal): Promise<ProbeResult> {
  return withDeadline(check.timeoutMs, signal, (attempt) => {
    const port = check.port ?? DEFAULT_PORT;
    const target = hostPort(host, port);
    attempt.stage = `connecting to ${target}`;
    return new Promise<Outcome>((resolve) => {
      const socket = connect({ host, port });
      attempt.signal.addEventListener('abort', () => socket.destroy(), { once: true });
      const expected: Array<'AUTH' | 'PING'> = check.password !== undefined ? ['AUTH', 'PING'] : ['PING'];
      const lines = new ReplyLines();

      socket.on('connect', () => {
        socket.setNoDelay(true);
        const auth = check.password !== undefined ? [encodeCommand(['AUTH', check.password])] : [];
        socket.write(Buffer.concat([...auth, encodeCommand(['PING'])]));
        attempt.stage = `waiting for ${expected[0]} reply from ${target}`;
      });
      socket.on('data', (chunk: Buffer) => {
        const got = lines.push(chunk);
        if (got === 'overflow') return resolve(fail(`unexpected reply from ${target}: no line end within 4 KiB`));
        for (const line of got) {
          const command = expected.shift();
          if (command === 'AUTH') {
            if (line !== '+OK') return resolve(fail(`AUTH refused by ${target}: ${printable(line)}`));
            attempt.stage = `waiting for PING reply from ${target}`;
          } else if (command === 'PING') {
            return resolve(line === '+PONG' ? pass('PONG') : fail(`PING to ${target} answered ${printable(line)}`));
          }
        }
      });
      socket.on('error', (e) => resolve(fail(errorText(e))));
      socket.on('close', () => resolve(fail(`connection closed while ${attempt.stage}`)));
    });
  });
}
