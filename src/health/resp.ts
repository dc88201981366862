/**
 * The little of RESP (the Redis protocol) a health probe needs: encode a command, and split replies
 * into lines. Only one-line replies (`+…`, `-…`) can mean healthy here, so multi-line replies are
 * surfaced as their first line and judged unexpected by the caller.
 */
export function encodeCommand(args: readonly string[]): Buffer {
  const parts = [`*${args.length}\r\n`];
  for (const a of args) parts.push(`$${Buffer.byteLength(a)}\r\n${a}\r\n`);
  return Buffer.from(parts.join(''));
}

/** A reply longer than this without a line end is not a Redis answering PING. */
const MAX_REPLY_LINE = 4096;

export class ReplyLines {
  private pending: Buffer = Buffer.alloc(0);

  /** Feeds bytes; returns the complete lines (without CRLF), or `overflow` if a line is too long. */
  push(chunk: Buffer): string[] | 'overflow' {
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    const lines: string[] = [];
    let start = 0;
    for (;;) {
      const end = this.pending.indexOf('\r\n', start);
      if (end < 0) break;
      lines.push(this.pending.toString('latin1', start, end));
      start = end + 2;
    }
    this.pending = this.pending.subarray(start);
    return this.pending.length > MAX_REPLY_LINE ? 'overflow' : lines;
  }
}
