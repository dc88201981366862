import { Class, EDNS_UDP_SIZE, EdnsOption, Flag, Opcode, Rcode, TsigError, Type } from '../wire/constants';
import { equalFolded } from '../wire/name-table';
import { copyRelocated, type Prebuilt } from '../wire/prebuilt';
import { ParseStatus, QueryParser, skipName } from '../wire/query';
import type { AnswerTable } from '../zone/compile';
import { Cookie, Guard, Limit } from './guard';
import { QueryStats } from './stats';

export type Transport = 'udp' | 'tcp';

/**
 * The request path, in one place: check the packet, look the question up in the compiled table,
 * copy the answer behind the query's own question, patch the header and add OPT. Truncation for UDP
 * happens here and nowhere else.
 */
export class Responder {
  private readonly parser = new QueryParser();
  private readonly nsid: Buffer;
  /** Length of the OPT record this answer carries (0 without EDNS); set once per query. */
  private optLen = 0;
  /** Whether this answer carries a COOKIE option (the guard holds its bytes); set once per query. */
  private cookie = Cookie.None;
  /** The client's address (rinfo / remoteAddress); set once per query. */
  private source = '';
  table: AnswerTable;
  readonly stats: QueryStats;
  /** Cookies and rate limiting; without one (in-process tests), neither. Replaced on reload. */
  guard?: Guard;

  constructor(table: AnswerTable, opts: { identity: string; stats?: QueryStats; guard?: Guard }) {
    this.table = table;
    this.nsid = Buffer.from(opts.identity, 'utf8');
    this.stats = opts.stats ?? new QueryStats();
    this.guard = opts.guard;
  }

  /**
   * The response to `query` from `source` (the client's address), or undefined when the packet
   * deserves silence. Never throws on input.
   */
  respond(query: Buffer, transport: Transport, source = ''): Buffer | undefined {
    const p = this.parser;
    this.source = source;
    const status = p.parse(query, query.length);
    if (status === ParseStatus.Drop) {
      this.stats.dropped++;
      return undefined;
    }
    // Decide: who is asking. A malformed COOKIE option made the parse a FORMERR already (RFC 7873 §5.2.2).
    const guard = this.guard;
    this.cookie = guard ? guard.admit(query, p, source) : Cookie.None;
    this.optLen = p.hasEdns ? 11 + (p.wantsNsid ? 4 + this.nsid.length : 0) + (this.cookie ? 28 : 0) : 0;
    // RFC 8906 §8: an opcode we do not implement gets NOTIMP whatever follows the header.
    const error =
      p.opcode !== Opcode.QUERY
        ? Rcode.NOTIMP
        : status === ParseStatus.FormErr
          ? Rcode.FORMERR
          : p.tsigName
            ? Rcode.NOTAUTH
            : p.hasEdns && p.ednsVersion > 0
              ? Rcode.BADVERS
              : -1;
    const out = error === Rcode.NOTAUTH ? this.badKey(query) : error >= 0 ? this.bare(query, error) : this.answer(query, transport);
    const rcode = error >= 0 ? error : out[3] & 0xf;
    // RRL counts what goes out over UDP to a client that has not proven its address with a cookie.
    if (transport === 'udp' && guard?.limiting && this.cookie !== Cookie.Valid) {
      const limit = guard.limit(out, p);
      if (limit === Limit.Drop) return undefined;
      // RFC 7873 §5.2.3 lets a server answer a cookie client BADCOOKIE: it retries with our cookie.
      if (limit === Limit.Slip) return this.cookie ? this.bare(query, Rcode.BADCOOKIE) : this.tcOnly(query, rcode, (out[2] & 0x04) !== 0);
    }
    this.stats.count(transport, p.qtype, rcode);
    return out;
  }

  private answer(query: Buffer, transport: Transport): Buffer {
    const p = this.parser;
    const t = this.table;
    if (p.qtype === Type.OPT) return this.bare(query, Rcode.FORMERR);
    let pre: Prebuilt | undefined;
    let delta = 0;
    if (p.qclass === Class.IN) {
      if (p.qtype === Type.AXFR || p.qtype === Type.IXFR) return this.bare(query, Rcode.REFUSED);
      const slot = t.names.get(query, 12, p.qnameEnd, p.qhash);
      if (slot) {
        if (!t.serving) return this.bare(query, t.unavailableRcode);
        if (slot.internal && this.outsideInternal()) return this.bare(query, Rcode.REFUSED);
        // DNSSEC: DO=1 (RFC 3225) takes the signed variant, built with the rest of the table.
        const set = p.ednsDo && slot.signed ? slot.signed : slot;
        pre = p.qtype === Type.ANY ? set.any : (set.byType.get(p.qtype) ?? set.nodata);
      } else if (this.under(query, t.apexWire)) {
        if (!t.serving) return this.bare(query, t.unavailableRcode);
        // Even "no such name" would tell an outsider which internal names exist.
        if (t.internal?.from && this.under(query, t.internal.wire) && this.outsideInternal()) return this.bare(query, Rcode.REFUSED);
        pre = p.ednsDo && t.signedNxdomain ? t.signedNxdomain.find(query, p.qnameEnd, p.labelStarts, p.labelCount) : t.nxdomain;
        delta = p.qnameEnd - 12 - t.apexWire.length;
      } else {
        return this.bare(query, Rcode.REFUSED);
      }
    } else if (p.qclass === Class.CH) {
      const slot = t.chaos.get(query, 12, p.qnameEnd, p.qhash);
      if (!slot) return this.bare(query, Rcode.REFUSED);
      pre = p.qtype === Type.ANY ? slot.any : (slot.byType.get(p.qtype) ?? slot.nodata);
    } else {
      return this.bare(query, Rcode.REFUSED);
    }

    const qEnd = p.questionEnd;
    const optLen = this.optLen;
    let bodyLen = pre.body.length;
    let ar = pre.ar;
    if (transport === 'udp' && qEnd + bodyLen + optLen > this.udpLimit()) {
      // RFC 2181 §9: additional records (glue) are extras. Drop them from the end until the answer
      // fits; TC only when the answer and authority sections alone do not.
      const room = this.udpLimit() - qEnd - optLen;
      while (ar >= 0 && pre.additionalEnds[ar] > room) ar--;
      if (ar < 0) return this.truncated(query);
      bodyLen = pre.additionalEnds[ar];
    }
    const out = Buffer.allocUnsafe(qEnd + bodyLen + optLen);
    query.copy(out, 0, 0, qEnd);
    this.header(out, pre.flags, 1, pre.an, pre.ns, ar);
    if (delta !== 0 || pre.pointers) copyRelocated(pre, out, qEnd, delta, bodyLen);
    else pre.body.copy(out, qEnd, 0, bodyLen);
    if (optLen) this.writeOpt(out, qEnd + bodyLen, 0);
    return out;
  }

  /**
   * dns.internalFrom: whether this client may not see private addresses. A prefix match, asked only
   * for names under internal.<zone>.
   */
  private outsideInternal(): boolean {
    const from = this.table.internal?.from;
    return from !== undefined && !from.contains(this.source);
  }

  /** Whether the question name is `apex` or below it: compare the name's tail at a label start. */
  private under(query: Buffer, apex: Uint8Array): boolean {
    const p = this.parser;
    const at = p.qnameEnd - apex.length;
    if (at < 12) return false;
    if (apex.length === 1) return true; // the root zone
    for (let i = 0; i < p.labelCount; i++) if (p.labelStarts[i] === at) return equalFolded(apex, query, at);
    return false;
  }

  private udpLimit(): number {
    const p = this.parser;
    return p.hasEdns ? Math.max(512, Math.min(p.ednsUdpSize, EDNS_UDP_SIZE)) : 512;
  }

  /** TC=1 with the question only: the client retries over TCP (RFC 7766). */
  private truncated(query: Buffer): Buffer {
    this.stats.truncated++;
    return this.tcOnly(query);
  }

  /**
   * No records, TC=1: what a truncated answer and a slipped (rate-limited) response look like, with
   * the rcode and AA of the response it stands for. Echoes the question when it parsed.
   */
  private tcOnly(query: Buffer, rcode = 0, aa = true): Buffer {
    const p = this.parser;
    const qEnd = p.questionEnd;
    const optLen = this.optLen;
    const out = Buffer.allocUnsafe(Math.max(qEnd, 12) + optLen);
    query.copy(out, 0, 0, qEnd > 0 ? qEnd : 12);
    this.header(out, Flag.TC | (aa ? Flag.AA : 0) | (rcode & 0xf), qEnd > 0 ? 1 : 0, 0, 0, 0);
    if (optLen) this.writeOpt(out, Math.max(qEnd, 12), rcode >> 4);
    return out;
  }

  /** An answer with no records: errors, REFUSED. Echoes the question when it parsed. */
  private bare(query: Buffer, rcode: number): Buffer {
    const p = this.parser;
    const qEnd = p.questionEnd;
    const optLen = this.optLen;
    const out = Buffer.allocUnsafe(Math.max(qEnd, 12) + optLen);
    query.copy(out, 0, 0, qEnd > 0 ? qEnd : 12);
    this.header(out, rcode & 0xf, qEnd > 0 ? 1 : 0, 0, 0, 0);
    if (optLen) this.writeOpt(out, Math.max(qEnd, 12), rcode >> 4);
    return out;
  }

  /**
   * RFC 8945 §5.2: a signed query with a key this server does not know (it knows none) gets NOTAUTH
   * and an unsigned TSIG record (MAC size 0) with error BADKEY, carrying the request's key name,
   * algorithm, Time Signed, Fudge and Original ID: what Knot answers.
   */
  private badKey(query: Buffer): Buffer {
    const p = this.parser;
    const qEnd = p.questionEnd;
    const optLen = this.optLen;
    const owner = query.subarray(p.tsigName, skipName(query, p.tsigName, query.length));
    const algorithm = query.subarray(p.tsigAlgorithm, p.tsigAlgorithmEnd);
    // Algorithm, Time Signed (6), Fudge (2), MAC Size (2, zero), Original ID, Error, Other Len (2 each).
    const rdlen = algorithm.length + 16;
    const out = Buffer.allocUnsafe(qEnd + optLen + owner.length + 10 + rdlen);
    query.copy(out, 0, 0, qEnd);
    this.header(out, Rcode.NOTAUTH, 1, 0, 0, 1);
    if (optLen) this.writeOpt(out, qEnd, 0);
    let at = qEnd + optLen + owner.copy(out, qEnd + optLen);
    out.writeUInt16BE(Type.TSIG, at);
    out.writeUInt16BE(Class.ANY, at + 2);
    out.writeUInt32BE(0, at + 4);
    out.writeUInt16BE(rdlen, at + 8);
    at += 10 + algorithm.copy(out, at + 10);
    at += query.copy(out, at, p.tsigAlgorithmEnd, p.tsigAlgorithmEnd + 8);
    out.writeUInt16BE(0, at);
    query.copy(out, at + 2, p.tsigOriginalId, p.tsigOriginalId + 2);
    out.writeUInt16BE(TsigError.BADKEY, at + 4);
    out.writeUInt16BE(0, at + 6);
    return out;
  }

  /**
   * Header: keep the id and opcode, set QR, clear RA, AD, Z and TC (RFC 8906). RD and CD are copied
   * in answers to QUERY only: under an opcode we do not implement they mean nothing we know (as in
   * miekg/dns's SetReply; Knot clears CD there too, NSD keeps both).
   */
  private header(out: Buffer, flags: number, qd: number, an: number, ns: number, ar: number): void {
    const p = this.parser;
    const q = p.flags;
    const f = Flag.QR | (q & 0x7800) | (p.opcode === Opcode.QUERY ? q & (Flag.RD | Flag.CD) : 0) | flags;
    out[2] = f >> 8;
    out[3] = f & 0xff;
    out[4] = qd >> 8;
    out[5] = qd;
    out[6] = an >> 8;
    out[7] = an;
    out[8] = ns >> 8;
    out[9] = ns;
    const arc = ar + (this.optLen ? 1 : 0);
    out[10] = arc >> 8;
    out[11] = arc;
  }

  /**
   * OPT (RFC 6891): our UDP size, extended rcode, version 0, DO copied (RFC 3225), NSID if asked,
   * the client's cookie with our server cookie when it sent one (RFC 7873 §5.2).
   */
  private writeOpt(out: Buffer, at: number, extRcode: number): void {
    const p = this.parser;
    const nsidLen = p.wantsNsid ? 4 + this.nsid.length : 0;
    const rdlen = nsidLen + (this.cookie ? 28 : 0);
    out[at] = 0;
    out.writeUInt16BE(Type.OPT, at + 1);
    out.writeUInt16BE(EDNS_UDP_SIZE, at + 3);
    out[at + 5] = extRcode;
    out[at + 6] = 0;
    out[at + 7] = p.ednsDo ? 0x80 : 0;
    out[at + 8] = 0;
    out.writeUInt16BE(rdlen, at + 9);
    if (p.wantsNsid) {
      out.writeUInt16BE(EdnsOption.NSID, at + 11);
      out.writeUInt16BE(this.nsid.length, at + 13);
      this.nsid.copy(out, at + 15);
    }
    if (this.cookie) {
      const c = at + 11 + nsidLen;
      out.writeUInt16BE(EdnsOption.COOKIE, c);
      out.writeUInt16BE(24, c + 2);
      this.guard!.cookie.copy(out, c + 4);
    }
  }
}
