/**
 * The zone's SOA serial, the same on every name server, without following any one node's clock.
 *
 * Every agent announces its serial in its heartbeats. The clock is read once, at start, for a
 * first candidate, so a cluster started afresh begins above what it served before. From then on:
 *
 * - Before the agent first serves, its serial is tentative: the M-th highest (M = majority) of the
 *   serials its fresh peers and it announce, so a node whose clock is minutes ahead (or behind)
 *   takes the majority's serial instead of its own; a cluster starting together agrees on the
 *   median clock of a majority. Nothing is answered from a tentative serial (the zone is not
 *   served before a majority is heard), so it may go down as well as up.
 * - Once it serves, the serial grows by one on every change of answers, never from the clock, and
 *   the agent adopts a peer's higher serial so all name servers converge on one value. It adopts
 *   only up to `AHEAD` above the majority's M-th highest: an agent that counted a change or two
 *   more than the rest (two changes seen in one step by one agent, in two by another) is followed;
 *   a starting node's clock-based candidate far above the cluster's is not.
 *
 * Before this, the serial was max(serial + 1, clock) and agents adopted the highest any peer
 * served: one node with its clock 5 minutes ahead moved every name server's serial 5 minutes
 * ahead, for good (fault lab, issue 10).
 */
export const AHEAD = 32;

export class ZoneSerial {
  private value: number;
  private settled = false;
  /** A majority's serials were seen: a tentative serial is the majority's, not this clock's. */
  private heardMajority: boolean;

  constructor(
    clockSeconds: number,
    private readonly majority: number,
  ) {
    this.value = clockSeconds >>> 0;
    this.heardMajority = majority <= 1;
  }

  get current(): number {
    return this.value;
  }

  /**
   * `announced`: the serials this agent (its own current one included) and its fresh peers announce.
   * Returns whether the serial changed.
   */
  observe(announced: readonly number[]): boolean {
    const sorted = announced.filter((s) => s > 0).sort((a, b) => b - a);
    if (sorted.length < this.majority) return false;
    const mth = sorted[this.majority - 1];
    this.heardMajority = true;
    const next = this.settled ? Math.max(this.value, sorted.find((s) => s <= mth + AHEAD)!) : mth;
    if (next === this.value) return false;
    this.value = next;
    return true;
  }

  /** The answers changed: the serial to serve with them. `serving`: they are served from now on. */
  next(serving: boolean): number {
    // Serving before a majority's serials were seen (peers not announcing one yet) stays tentative.
    if (serving && this.heardMajority) this.settled = true;
    this.value = (this.value + 1) >>> 0 || 1;
    return this.value;
  }
}
