import { nameToWire } from '../wire/name';
import { NameTable } from '../wire/name-table';
import type { Prebuilt } from '../wire/prebuilt';
import { hashWireName } from '../wire/query';

/**
 * Signed NXDOMAIN answers, one per (predecessor, closest encloser) pair the zone allows, all built
 * when the table is compiled. The proof depends on where the question name falls in the NSEC chain,
 * so a query picks its pair here, on the packet's bytes without allocating: a hash lookup per label
 * for the closest encloser and a binary search over the zone's names. Nothing is signed here.
 */
export class NxdomainProofs {
  /** Owner names in canonical order, lowercase wire form, and where each one's labels start. */
  private readonly owners: readonly Uint8Array[];
  private readonly ownerLabels: readonly Int32Array[];
  private readonly index = new NameTable<number>();
  /** Body for (predecessor i, encloser j) at i * n + j. */
  private readonly bodies: readonly (Prebuilt | undefined)[];

  constructor(
    /** What it was built from, kept for the table image (zone/image.ts). */
    readonly order: readonly string[],
    readonly pairs: ReadonlyMap<string, Prebuilt>,
    /** Served should a pair be missing (a bug): NXDOMAIN without proof, which validators reject but never crash on. */
    readonly fallback: Prebuilt,
  ) {
    const bodies = pairs;
    this.owners = order.map(nameToWire);
    this.ownerLabels = this.owners.map((w) => {
      const starts: number[] = [];
      for (let at = 0; w[at] !== 0; at += w[at] + 1) starts.push(at);
      return Int32Array.from(starts);
    });
    this.owners.forEach((w, i) => this.index.set(w, i));
    const n = order.length;
    const byPair: (Prebuilt | undefined)[] = new Array(n * n);
    order.forEach((p, i) => order.forEach((e, j) => (byPair[i * n + j] = bodies.get(NxdomainProofs.key(p, e)))));
    this.bodies = byPair;
  }

  static key(predecessor: string, closestEncloser: string): string {
    return `${predecessor} ${closestEncloser}`;
  }

  /**
   * The body for the question name ending at `end`, whose labels start at `labelStarts[0..count)`
   * (the query parser's). The name is in the zone and none of its names: the caller looked it up.
   */
  find(buf: Uint8Array, end: number, labelStarts: Int32Array, count: number): Prebuilt {
    let encloser = 0;
    for (let i = 1; i < count; i++) {
      const found = this.index.get(buf, labelStarts[i], end, hashWireName(buf, labelStarts[i], end));
      if (found !== undefined) {
        encloser = found;
        break;
      }
    }
    // The last name before the question name: the apex (index 0) sorts first and is below it.
    let lo = 0;
    let hi = this.owners.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.compare(mid, buf, labelStarts, count) < 0) lo = mid;
      else hi = mid - 1;
    }
    return this.bodies[lo * this.owners.length + encloser] ?? this.fallback;
  }

  /** RFC 4034 §6.1 order of owner `i` against the question name: labels from the right, case folded. */
  private compare(i: number, buf: Uint8Array, starts: Int32Array, count: number): number {
    const w = this.owners[i];
    const ws = this.ownerLabels[i];
    const n = Math.min(ws.length, count);
    for (let k = 1; k <= n; k++) {
      const a = ws[ws.length - k];
      const b = starts[count - k];
      const la = w[a];
      const lb = buf[b];
      const m = Math.min(la, lb);
      for (let x = 1; x <= m; x++) {
        let c = buf[b + x];
        if (c >= 0x41 && c <= 0x5a) c |= 0x20;
        if (w[a + x] !== c) return w[a + x] - c;
      }
      if (la !== lb) return la - lb;
    }
    return ws.length - count;
  }
}
