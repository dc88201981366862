/**
 * A dgram `lookup` for sockets that only ever send to IP literals (DNS replies to the client's
 * address, heartbeats to configured peer addresses): Node's default runs dns.lookup() and a
 * process.nextTick per datagram, a measurable share of an idle agent's CPU at 17 nodes (issue 10).
 *
 * The family is read from the literal itself: only IPv6 literals hold a colon. `net.isIPv6` ran a
 * large regular expression per answer sent instead, which failed slowly on every IPv4 client's
 * address: 1.7 % of an answer thread's CPU under a flood (issue 17, `npm run bench -- --threads`).
 */
export function literalLookup(address: string, _opts: unknown, cb: (err: null, address: string, family: number) => void): void {
  cb(null, address, address.includes(':') ? 6 : 4);
}
