/**
 * RESP, the Redis protocol, as a server needs it: an incremental request parser with hard limits,
 * and a reply encoder for RESP2 and RESP3. Strings are latin1 throughout, so every byte a client
 * sends maps to one character and back (PING's echo is byte-exact) without a Buffer per argument.
 */

export interface RequestLimits {
  /** Longest inline command line (Redis: 64 KiB). */
  readonly maxInline: number;
  /** Most arguments in one multibulk request. */
  readonly maxArgs: number;
  /** Longest single bulk argument. */
  readonly maxBulk: number;
}

/**
 * What a connection may send before it has authenticated, when a password is set: the same limits
 * Redis 7 applies, so an unauthenticated peer cannot make the server hold much.
 */
const UNAUTHENTICATED: Pick<RequestLimits, 'maxArgs' | 'maxBulk'> = { maxArgs: 10, maxBulk: 16384 };

type Parsed = { readonly commands: string[][]; readonly error?: string };

/**
 * Request parser as Redis's `processInlineBuffer`/`processMultibulkBuffer`: a state machine that
 * consumes bytes as they come, so a request split into many small reads is never rescanned, and the
 * bytes it holds are bounded by the limits (one header line, or one bulk argument, plus the
 * arguments of the command in progress). The error texts are Redis's own, byte for byte.
 */
export class RequestParser {
  /** Bytes of an unfinished line: an inline command or a `*n`/`$n` header. */
  private line: Buffer[] = [];
  private lineLength = 0;
  /** Multibulk in progress: arguments still expected (0: between requests). */
  private remaining = 0;
  private args: string[] = [];
  /** Bulk argument in progress: its length (0: none), and its bytes once it spans reads. */
  private bulkWant = 0;
  private bulk: Buffer | undefined;
  private bulkFilled = 0;
  /** Bytes of `args` (held, without summing them at every read). */
  private argsBytes = 0;
  /** CRLF bytes still to skip after a bulk payload (Redis skips them unchecked). */
  private skip = 0;
  private inline = false;

  constructor(
    private readonly limits: RequestLimits,
    private readonly authenticated: () => boolean = () => true,
  ) {}

  /** Whether a request has been started and not finished (the connection's frame timer). */
  get partial(): boolean {
    return this.lineLength > 0 || this.remaining > 0 || this.bulkWant > 0 || this.skip > 0;
  }

  /** Bytes held for unfinished requests. */
  get held(): number {
    return this.lineLength + this.bulkWant + this.argsBytes;
  }

  /** Consumes a chunk; after an error the connection must be closed (the stream is out of sync). */
  feed(chunk: Buffer): Parsed {
    const commands: string[][] = [];
    let i = 0;
    while (i < chunk.length) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, chunk.length - i);
        this.skip -= n;
        i += n;
        if (this.skip === 0 && this.remaining === 0) this.finish(commands);
        continue;
      }
      if (this.bulkWant > 0) {
        const want = this.bulkWant;
        if (this.bulkFilled === 0 && chunk.length - i >= want) {
          // The whole argument is in this read: decoded from it, no copy (a flood of arguments
          // makes half the garbage, and shorter collector pauses for DNS to wait on).
          this.pushArg(chunk.toString('latin1', i, i + want));
          i += want;
          continue;
        }
        this.bulk ??= Buffer.allocUnsafe(want);
        const n = Math.min(want - this.bulkFilled, chunk.length - i);
        chunk.copy(this.bulk, this.bulkFilled, i, i + n);
        this.bulkFilled += n;
        i += n;
        if (this.bulkFilled === want) this.pushArg(this.bulk.toString('latin1'));
        continue;
      }
      if (this.lineLength === 0 && this.remaining === 0) this.inline = chunk[i] !== 0x2a; // '*'
      const nl = chunk.indexOf(0x0a, i);
      const end = nl < 0 ? chunk.length : nl;
      if (this.lineLength + (end - i) > this.limits.maxInline) {
        return { commands, error: this.inline ? 'Protocol error: too big inline request' : this.remaining > 0 ? 'Protocol error: too big bulk count string' : 'Protocol error: too big mbulk count string' };
      }
      if (nl < 0) {
        this.line.push(chunk.subarray(i));
        this.lineLength += chunk.length - i;
        break;
      }
      // A line wholly in this read (nearly every `$n` header) is read where it is: no copy, no string.
      const buf = this.lineLength === 0 ? chunk : Buffer.concat([...this.line, chunk.subarray(i, nl)]);
      const from = this.lineLength === 0 ? i : 0;
      let to = this.lineLength === 0 ? nl : buf.length;
      if (this.lineLength > 0) this.line = [];
      this.lineLength = 0;
      i = nl + 1;
      if (to > from && buf[to - 1] === 0x0d) to--;
      const error = this.inline ? this.onInline(buf.toString('latin1', from, to), commands) : this.onHeader(buf, from, to);
      if (error) return { commands, error };
    }
    return { commands };
  }

  private onInline(text: string, commands: string[][]): string | undefined {
    const args = splitArgs(text);
    if (args === undefined) return 'Protocol error: unbalanced quotes in request';
    if (args.length > 0) commands.push(args);
    return undefined;
  }

  private onHeader(line: Buffer, from: number, to: number): string | undefined {
    const auth = this.authenticated();
    if (this.remaining === 0) {
      const n = parseLength(line, from + 1, to);
      const max = auth ? this.limits.maxArgs : Math.min(this.limits.maxArgs, UNAUTHENTICATED.maxArgs);
      if (n === undefined || n > 1024 * 1024) return 'Protocol error: invalid multibulk length';
      if (n > max) return auth ? 'Protocol error: invalid multibulk length' : 'Protocol error: unauthenticated multibulk length';
      // `*0` and `*-1` are empty requests: Redis reads on without a reply.
      if (n <= 0) return undefined;
      this.remaining = n;
      this.args = [];
      this.argsBytes = 0;
      return undefined;
    }
    if (line[from] !== 0x24) return `Protocol error: expected '$', got '${from < to ? String.fromCharCode(line[from]) : ''}'`;
    const n = parseLength(line, from + 1, to);
    const max = auth ? this.limits.maxBulk : Math.min(this.limits.maxBulk, UNAUTHENTICATED.maxBulk);
    if (n === undefined || n < 0 || n > 512 * 1024 * 1024) return 'Protocol error: invalid bulk length';
    if (n > max) return auth ? 'Protocol error: invalid bulk length' : 'Protocol error: unauthenticated bulk length';
    if (n === 0) {
      this.pushArg('');
      return undefined;
    }
    this.bulkWant = n;
    this.bulk = undefined;
    this.bulkFilled = 0;
    return undefined;
  }

  private pushArg(arg: string): void {
    this.args.push(arg);
    this.argsBytes += arg.length;
    this.bulkWant = 0;
    this.bulk = undefined;
    this.bulkFilled = 0;
    this.remaining--;
    this.skip = 2;
  }

  private finish(commands: string[][]): void {
    commands.push(this.args);
    this.args = [];
    this.argsBytes = 0;
  }
}

/**
 * The decimal integer in `line[from, to)` (the `123` of `*123`, a sign allowed, 1–19 digits);
 * undefined for anything else. Read from the bytes: a flood of `$n` headers makes no strings.
 */
function parseLength(line: Buffer, from: number, to: number): number | undefined {
  const negative = line[from] === 0x2d; // '-'
  const start = negative ? from + 1 : from;
  if (to - start < 1 || to - start > 19) return undefined;
  let n = 0;
  for (let k = start; k < to; k++) {
    const d = line[k] - 0x30;
    if (d < 0 || d > 9) return undefined;
    n = n * 10 + d;
  }
  if (!Number.isSafeInteger(n)) return Number.MAX_SAFE_INTEGER; // over any limit, either sign (as before)
  return negative ? -n : n;
}

/**
 * Redis's `sdssplitargs`: words split on blanks; "double quotes" take \n \r \t \b \a \\ \" and \xHH
 * escapes, 'single quotes' take \'; a closing quote must end the word. Undefined: unbalanced quotes.
 */
export function splitArgs(line: string): string[] | undefined {
  const out: string[] = [];
  let i = 0;
  const blank = (c: string | undefined) => c === ' ' || c === '\n' || c === '\r' || c === '\t' || c === '\v' || c === '\f';
  for (;;) {
    while (i < line.length && blank(line[i])) i++;
    if (i >= line.length) return out;
    let word = '';
    let inDq = false;
    let inSq = false;
    for (;;) {
      const c = line[i];
      if (inDq) {
        if (c === undefined) return undefined;
        if (c === '\\' && line[i + 1] === 'x' && /^[0-9a-fA-F]{2}$/.test(line.slice(i + 2, i + 4))) {
          word += String.fromCharCode(parseInt(line.slice(i + 2, i + 4), 16));
          i += 3;
        } else if (c === '\\' && i + 1 < line.length) {
          const e = line[++i];
          word += e === 'n' ? '\n' : e === 'r' ? '\r' : e === 't' ? '\t' : e === 'b' ? '\b' : e === 'a' ? '\x07' : e;
        } else if (c === '"') {
          if (i + 1 < line.length && !blank(line[i + 1])) return undefined;
          i++;
          break;
        } else word += c;
      } else if (inSq) {
        if (c === undefined) return undefined;
        if (c === '\\' && line[i + 1] === "'") {
          word += "'";
          i++;
        } else if (c === "'") {
          if (i + 1 < line.length && !blank(line[i + 1])) return undefined;
          i++;
          break;
        } else word += c;
      } else {
        if (c === undefined || blank(c)) break;
        if (c === '"') inDq = true;
        else if (c === "'") inSq = true;
        else word += c;
      }
      i++;
    }
    out.push(word);
  }
}

/** A reply, before it is encoded for the connection's protocol version. */
export type Reply =
  | { readonly t: 'simple'; readonly v: string }
  | { readonly t: 'error'; readonly v: string }
  | { readonly t: 'int'; readonly v: number }
  | { readonly t: 'bulk'; readonly v: string }
  | { readonly t: 'null' | 'null-array' }
  | { readonly t: 'array'; readonly v: readonly Reply[] }
  | { readonly t: 'map'; readonly v: ReadonlyArray<readonly [string, Reply]> }
  | { readonly t: 'push'; readonly v: readonly Reply[] }
  /** A set in RESP3 (`~`), an array in RESP2 (COMMAND's flags and categories). */
  | { readonly t: 'set'; readonly v: readonly Reply[] };

export const simple = (v: string): Reply => ({ t: 'simple', v });
export const error = (v: string): Reply => ({ t: 'error', v });
export const int = (v: number): Reply => ({ t: 'int', v });
export const bulk = (v: string): Reply => ({ t: 'bulk', v });
export const array = (v: readonly Reply[]): Reply => ({ t: 'array', v });
export const bulks = (v: readonly string[]): Reply => array(v.map(bulk));
export const map = (v: ReadonlyArray<readonly [string, Reply]>): Reply => ({ t: 'map', v });
/** Bulk-string pairs, as Sentinel's field/value replies (a map in RESP3). */
export const fields = (v: ReadonlyArray<readonly [string, string]>): Reply => map(v.map(([k, x]) => [k, bulk(x)]));
/** A pub/sub message: an array in RESP2, a push in RESP3. */
export const push = (v: readonly Reply[]): Reply => ({ t: 'push', v });
/** Null bulk (`$-1`) in RESP2; null (`_`) in RESP3. */
export const NULL: Reply = { t: 'null' };
/** Null array (`*-1`) in RESP2, as Sentinel's unknown master; null (`_`) in RESP3. */
export const NULL_ARRAY: Reply = { t: 'null-array' };
export const OK = simple('OK');

export type Protocol = 2 | 3;

export function encode(reply: Reply, proto: Protocol): Buffer {
  const parts: string[] = [];
  write(reply, proto, parts);
  return Buffer.from(parts.join(''), 'latin1');
}

/** Appends a reply's encoding (latin1 strings) to `out`, for several replies in one write. */
export function encodeInto(reply: Reply, proto: Protocol, out: string[]): void {
  write(reply, proto, out);
}

function write(r: Reply, proto: Protocol, out: string[]): void {
  switch (r.t) {
    case 'simple':
      out.push(`+${r.v}\r\n`);
      return;
    case 'error':
      out.push(`-${r.v.replace(/[\r\n]/g, ' ')}\r\n`);
      return;
    case 'int':
      out.push(`:${r.v}\r\n`);
      return;
    case 'bulk':
      out.push(`$${r.v.length}\r\n${r.v}\r\n`);
      return;
    case 'null':
      out.push(proto === 3 ? '_\r\n' : '$-1\r\n');
      return;
    case 'null-array':
      out.push(proto === 3 ? '_\r\n' : '*-1\r\n');
      return;
    case 'array':
    case 'push':
    case 'set':
      out.push(`${proto === 3 && r.t !== 'array' ? (r.t === 'push' ? '>' : '~') : '*'}${r.v.length}\r\n`);
      for (const x of r.v) write(x, proto, out);
      return;
    case 'map':
      out.push(proto === 3 ? `%${r.v.length}\r\n` : `*${r.v.length * 2}\r\n`);
      for (const [k, x] of r.v) {
        write(bulk(k), proto, out);
        write(x, proto, out);
      }
      return;
  }
}
