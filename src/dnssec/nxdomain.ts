import type { Prebuilt } from '../wire/prebuilt';
import { compareLabels } from './sign-zone';

/**
 * Signed NXDOMAIN answers, one per (predecessor, closest encloser) pair the zone allows, all built
 * when the table is compiled. The proof depends on where the question name falls in the NSEC chain,
 * so a query picks its pair here: a label walk and a binary search over the zone's few names, only
 * for DO=1 questions about names that do not exist. Nothing is signed here.
 */
export class NxdomainProofs {
  /** Owner names in canonical order, as reversed label lists. */
  private readonly labels: readonly (readonly string[])[];
  private readonly index: ReadonlyMap<string, number>;

  constructor(
    order: readonly string[],
    private readonly bodies: ReadonlyMap<string, Prebuilt>,
    /** Served should a pair be missing (a bug): NXDOMAIN without proof, which validators reject but never crash on. */
    private readonly fallback: Prebuilt,
  ) {
    this.labels = order.map((n) => (n === '' ? [] : n.split('.').reverse()));
    this.index = new Map(order.map((n, i) => [n, i]));
  }

  static key(predecessor: string, closestEncloser: string): string {
    return `${predecessor} ${closestEncloser}`;
  }

  /**
   * The body for the wire-form question name at `buf[start..end)`, which is in the zone and is none
   * of its names (the caller looked it up first). The query parser has checked the name: no pointers.
   */
  find(buf: Uint8Array, start: number, end: number): Prebuilt {
    const labels: string[] = [];
    for (let at = start; at < end && buf[at] !== 0; at += buf[at] + 1) {
      labels.push(Buffer.from(buf.subarray(at + 1, at + 1 + buf[at])).toString('latin1').toLowerCase());
    }
    let encloser = '';
    for (let i = 1; i < labels.length; i++) {
      const suffix = labels.slice(i).join('.');
      if (this.index.has(suffix)) {
        encloser = suffix;
        break;
      }
    }
    const reversed = labels.reverse();
    // The last name before the question name; the apex is first, and the question name is below it.
    let lo = 0;
    let hi = this.labels.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (compareLabels(this.labels[mid], reversed) < 0) lo = mid;
      else hi = mid - 1;
    }
    const predecessor = [...this.labels[lo]].reverse().join('.');
    return this.bodies.get(NxdomainProofs.key(predecessor, encloser)) ?? this.fallback;
  }
}
