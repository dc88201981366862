/**
 * RFC 7766 framing: each message behind a two-byte length. Messages that arrive whole are handed on
 * as views into the chunk; a message split across chunks is copied once into a buffer of its own
 * length, so a client trickling a 64 KB message a byte at a time costs 64 KB of copying, not the
 * 2 GB that re-concatenating the pending bytes on every chunk would.
 */
export class FrameReader {
  /** The high byte of a length whose low byte has not arrived, or -1. */
  private lengthHigh = -1;
  private partial: Buffer | undefined;
  private filled = 0;
  /** A message `each` declined and the bytes after it, framed as received: read on the next push. */
  private held: Buffer | undefined;

  /**
   * Calls `each` with every message completed by `chunk`, in order. When `each` returns false (it
   * did not take the message) that message and the rest of the chunk are held, and read first on
   * the next push (an empty chunk reads just those). Messages may be views into `chunk`: use them
   * before returning.
   */
  push(chunk: Buffer, each: (message: Buffer) => boolean): void {
    if (this.held) {
      chunk = chunk.length ? Buffer.concat([this.held, chunk]) : this.held;
      this.held = undefined;
    }
    let at = 0;
    while (at < chunk.length) {
      if (this.partial) {
        const n = Math.min(this.partial.length - this.filled, chunk.length - at);
        chunk.copy(this.partial, this.filled, at, at + n);
        this.filled += n;
        at += n;
        if (this.filled < this.partial.length) return;
        const message = this.partial;
        this.partial = undefined;
        if (!each(message)) return this.hold(message, chunk.subarray(at));
        continue;
      }
      let len: number;
      if (this.lengthHigh >= 0) {
        len = (this.lengthHigh << 8) | chunk[at++];
        this.lengthHigh = -1;
      } else if (chunk.length - at >= 2) {
        len = (chunk[at] << 8) | chunk[at + 1];
        at += 2;
      } else {
        this.lengthHigh = chunk[at];
        return;
      }
      if (chunk.length - at >= len) {
        const message = chunk.subarray(at, at + len);
        at += len;
        if (!each(message)) return this.hold(message, chunk.subarray(at));
      } else {
        this.partial = Buffer.allocUnsafe(len);
        this.filled = chunk.copy(this.partial, 0, at);
        return;
      }
    }
  }

  /** Nothing received but not yet handed on: no partial length, message or held bytes. */
  get idle(): boolean {
    return this.lengthHigh < 0 && this.partial === undefined && this.held === undefined;
  }

  /** Rare (a client not reading its answers): one copy, with the message's length in front again. */
  private hold(message: Buffer, rest: Buffer): void {
    this.held = Buffer.concat([Buffer.from([message.length >> 8, message.length & 0xff]), message, rest]);
  }
}
