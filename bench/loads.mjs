// Loads that more than one benchmark puts on an agent (bench/isolation.mjs,
// bench/discovery-attacks.mjs), written once so both measure the same thing (their child processes:
// bench/procs.mjs).
import net from 'node:net';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const PIPELINE = 'PING\r\nSENTINEL masters\r\nSENTINEL get-master-addr-by-name redis\r\nPSUBSCRIBE *\r\n'.repeat(4);

/**
 * Up to 10,000 connections to the discovery service at host:port, from `source(i)` (40 addresses in
 * turn), each sending 16 pipelined commands once; all held until `stopAt`, then destroyed.
 */
export async function pipelinedConnections(stopAt, { host, port, source }) {
  const socks = [];
  let opened = 0;
  for (let i = 0; i < 10_000 && Date.now() < stopAt; i++) {
    const s = net.connect({ host, port, localAddress: source(i % 40) });
    s.on('error', () => undefined);
    s.on('data', () => undefined);
    s.on('connect', () => {
      opened++;
      s.write(PIPELINE);
    });
    socks.push(s);
    if (i % 500 === 499) await sleep(50);
  }
  await sleep(Math.max(0, stopAt - Date.now()));
  for (const s of socks) s.destroy();
  return { connectionsOpened: opened };
}

/** `clients` fetches of `url` back to back each until `stopAt`; how many completed. */
export async function hammer(url, stopAt, clients = 48) {
  let n = 0;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (Date.now() < stopAt) {
        try {
          await (await fetch(url)).text();
          n++;
        } catch {}
      }
    }),
  );
  return { scrapes: n };
}
