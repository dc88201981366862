/**
 * Open TCP connections, in total and per client address, as the listeners' limits read them
 * (dns.tcpMaxConnections, dns.tcpMaxConnectionsPerSource: over all the node's addresses).
 *
 * One answer thread keeps them in a map. Several (src/answer/) share one SharedArrayBuffer so the
 * limits stay the node's, not each thread's: every thread writes only its own row (a total and a
 * count per hashed source slot) and reads the sum of all rows. A thread that is replaced dies
 * without running its sockets' close handlers, so the pool zeroes its row (`clearRow`). Two limits
 * drift from the single-thread ones, both towards refusing sooner: addresses that hash to the same
 * slot (1 in 16,384) share a per-source count, and threads accepting in the same instant may each
 * see the count before the other's connection (at most threads − 1 over).
 */
export interface TcpTally {
  total(): number;
  from(source: string): number;
  add(source: string): void;
  remove(source: string): void;
}

export class LocalTally implements TcpTally {
  private n = 0;
  private readonly perSource = new Map<string, number>();
  total(): number {
    return this.n;
  }
  from(source: string): number {
    return this.perSource.get(source) ?? 0;
  }
  add(source: string): void {
    this.n++;
    this.perSource.set(source, this.from(source) + 1);
  }
  remove(source: string): void {
    this.n--;
    const left = this.from(source) - 1;
    if (left > 0) this.perSource.set(source, left);
    else this.perSource.delete(source);
  }
}

export const TALLY_SLOTS = 16384;
const ROW = TALLY_SLOTS + 1;

/** The shared tally's memory for `threads` threads. */
export function sharedTallyBuffer(threads: number): SharedArrayBuffer {
  return new SharedArrayBuffer(threads * ROW * 4);
}

/** Zeroes a replaced thread's row (its connections closed with it). */
export function clearRow(buffer: SharedArrayBuffer, thread: number): void {
  new Int32Array(buffer, thread * ROW * 4, ROW).fill(0);
}

export class SharedTally implements TcpTally {
  private readonly cells: Int32Array;
  private readonly rows: number;
  private readonly own: number;

  constructor(buffer: SharedArrayBuffer, thread: number) {
    this.cells = new Int32Array(buffer);
    this.rows = this.cells.length / ROW;
    this.own = thread * ROW;
  }

  private sum(offset: number): number {
    let n = 0;
    for (let r = 0; r < this.rows; r++) n += Atomics.load(this.cells, r * ROW + offset);
    return n;
  }

  total(): number {
    return this.sum(0);
  }
  from(source: string): number {
    return this.sum(1 + slot(source));
  }
  add(source: string): void {
    Atomics.add(this.cells, this.own, 1);
    Atomics.add(this.cells, this.own + 1 + slot(source), 1);
  }
  remove(source: string): void {
    Atomics.sub(this.cells, this.own, 1);
    Atomics.sub(this.cells, this.own + 1 + slot(source), 1);
  }
}

/** FNV-1a of the address text, to a slot. */
function slot(source: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < source.length; i++) h = Math.imul(h ^ source.charCodeAt(i), 0x01000193);
  return (h >>> 0) % TALLY_SLOTS;
}
