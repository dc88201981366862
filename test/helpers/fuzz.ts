import net from 'node:net';
import { resolve } from 'node:path';
import { expect } from 'vitest';
import { encodeQuery } from './dns';
import { run } from './proc';

/** Hostile-input helpers shared by the socket-level fuzz tests (test/server/socket-fuzz*.test.ts). */

const RAW_UDP = resolve(__dirname, 'raw-udp.py');

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface RawDatagram {
  src: string;
  dst: string;
  sport: number;
  dport: number;
  payload: Buffer;
}

/** Datagrams with hand-made UDP headers (any source port), sent by the raw-socket helper (needs root). */
export async function sendRaw(python: string, datagrams: RawDatagram[]): Promise<void> {
  const input = datagrams.map((d) => `${d.src} ${d.dst} ${d.sport} ${d.dport} ${d.payload.toString('hex')}`).join('\n');
  const r = await run(python, [RAW_UDP], { input, timeoutMs: 20_000 });
  expect(r.stderr).toBe('');
  expect(Number(r.stdout.trim())).toBe(datagrams.length);
}

export function garbage(rand: () => number, maxLen: number): Buffer {
  return Buffer.from(Array.from({ length: Math.floor(rand() * maxLen) }, () => Math.floor(rand() * 256)));
}

/** A query with random bytes written over random places: close enough to DNS to get deep in. */
export function mangled(rand: () => number, name: string): Buffer {
  const q = encodeQuery(name, rand() < 0.5 ? 'A' : 'NS', { id: Math.floor(rand() * 65536), edns: rand() < 0.5 });
  for (let n = 1 + Math.floor(rand() * 4); n > 0; n--) q[Math.floor(rand() * q.length)] = Math.floor(rand() * 256);
  return rand() < 0.2 ? q.subarray(0, Math.floor(rand() * q.length)) : q;
}

/** Opens a TCP connection to `host:port`, runs `f` on it, and always destroys it. */
export async function withTcp(host: string, port: number, f: (s: net.Socket) => Promise<void> | void): Promise<void> {
  const s = net.connect({ host, port });
  s.on('error', () => undefined);
  try {
    await new Promise<void>((r, j) => {
      s.once('connect', () => r());
      s.once('error', j);
    });
    await f(s);
  } finally {
    s.destroy();
  }
}

/** A DNS message with its RFC 1035 §4.2.2 two-byte length in front. */
export const frame = (m: Buffer) => Buffer.concat([Buffer.from([m.length >> 8, m.length & 0xff]), m]);
