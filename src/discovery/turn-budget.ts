/**
 * Main-thread time a side service may take per turn of the event loop, across all its connections.
 *
 * With one answer thread, DNS is answered on the main thread, between the turns: a query that
 * arrives while discovery works waits for all the work done in that turn. A per-connection bound
 * (64 commands) does not bound a turn in which a thousand connections each have data; this does.
 * Work is measured, not counted: a slice of work starts with `begin()`, asks `left()` between
 * units (a command, a push), and ends with `end()`; what is over budget waits for the next turn
 * (the caller pauses the socket and queues it). The budget comes back at the next `setImmediate`
 * after the first spending, i.e. once the loop has gone round and polled its sockets again.
 */
export class TurnBudget {
  private spent = 0;
  private started = 0;
  private armed = false;

  constructor(
    /** Milliseconds of work per turn. */
    readonly ms: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  begin(): void {
    this.started = this.now();
    if (!this.armed) {
      this.armed = true;
      setImmediate(this.reset);
    }
  }

  /** Whether this turn's time lasts, counting the slice in progress. */
  left(): boolean {
    return this.spent + (this.now() - this.started) < this.ms;
  }

  end(): void {
    this.spent += this.now() - this.started;
  }

  private readonly reset = () => {
    this.armed = false;
    this.spent = 0;
  };
}
