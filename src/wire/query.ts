import { EdnsOption, HEADER_LEN, MAX_NAME_LEN, Type } from './constants';

/**
 * The hot-path query parser. One instance per listener is reused for every packet, so parsing
 * allocates nothing: it records offsets into the packet and a case-folded hash of the question name.
 */

export const enum ParseStatus {
  /** Header and question read; see the fields. */
  Ok = 0,
  /** Not worth an answer: shorter than a header, or a response (QR=1). */
  Drop = 1,
  /** Header readable, rest malformed: FORMERR. `questionEnd` > 0 when the question itself parsed. */
  FormErr = 2,
}

const MAX_LABELS = 128;

/** FNV-1a over the lowercased wire name: the answer table is keyed by it. */
export function hashWireName(buf: Uint8Array, start: number, end: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) {
    let c = buf[i];
    if (c >= 0x41 && c <= 0x5a) c |= 0x20;
    h = Math.imul(h ^ c, 0x01000193);
  }
  return h >>> 0;
}

export class QueryParser {
  id = 0;
  flags = 0;
  opcode = 0;
  qdcount = 0;
  /** The question name occupies [12, qnameEnd); the question section [12, questionEnd). */
  qnameEnd = 0;
  questionEnd = 0;
  qhash = 0;
  qtype = 0;
  qclass = 0;
  /** Offsets of each label's length byte in the question name. */
  readonly labelStarts = new Int32Array(MAX_LABELS);
  labelCount = 0;

  hasEdns = false;
  ednsVersion = 0;
  ednsUdpSize = 0;
  ednsDo = false;
  wantsNsid = false;
  /** Offset and length of the COOKIE option data, 0 when absent. */
  cookieStart = 0;
  cookieLen = 0;
  /**
   * A TSIG record (RFC 8945), the last record of the query, 0 when absent: offsets of its owner
   * name, of its algorithm name in the RDATA, of the end of that name (Time Signed follows) and of
   * Original ID. Both names are plain or point into the question only, so an answer that copies the
   * question may copy them as they are.
   */
  tsigName = 0;
  tsigAlgorithm = 0;
  tsigAlgorithmEnd = 0;
  tsigOriginalId = 0;

  parse(buf: Uint8Array, len: number = buf.length): ParseStatus {
    this.qnameEnd = 0;
    this.questionEnd = 0;
    this.qtype = 0;
    this.qclass = 0;
    this.labelCount = 0;
    this.hasEdns = false;
    this.ednsVersion = 0;
    this.ednsUdpSize = 0;
    this.ednsDo = false;
    this.wantsNsid = false;
    this.cookieStart = 0;
    this.cookieLen = 0;
    this.tsigName = 0;
    if (len < HEADER_LEN) return ParseStatus.Drop;
    this.id = (buf[0] << 8) | buf[1];
    this.flags = (buf[2] << 8) | buf[3];
    if (this.flags & 0x8000) return ParseStatus.Drop;
    this.opcode = (this.flags >> 11) & 0xf;
    this.qdcount = (buf[4] << 8) | buf[5];
    const ancount = (buf[6] << 8) | buf[7];
    const nscount = (buf[8] << 8) | buf[9];
    const arcount = (buf[10] << 8) | buf[11];
    if (this.qdcount > 1) return ParseStatus.FormErr;
    // No question is a FORMERR too, but the records after it are read: the error answer then
    // carries OPT when the query did (as Knot's does).
    let pos = this.qdcount === 1 ? this.readQuestion(buf, len) : HEADER_LEN;
    if (pos < 0) return ParseStatus.FormErr;

    // Skip answer and authority records (queries rarely have them), then look for OPT and TSIG.
    for (let i = 0; i < ancount + nscount; i++) {
      // RFC 8945 §5.1: TSIG anywhere but last in the additional section is a format error. RFC 6891
      // §6.1.1 puts OPT in the additional section only: BIND and NSD answer FORMERR to one in the
      // answer or authority section (test/server/opt-placement.test.ts), so does this.
      const typeAt = skipName(buf, pos, len);
      const type = typeAt >= 0 && typeAt + 2 <= len ? (buf[typeAt] << 8) | buf[typeAt + 1] : -1;
      if (type === Type.TSIG || type === Type.OPT) return ParseStatus.FormErr;
      pos = skipRecord(buf, pos, len);
      if (pos < 0) return ParseStatus.FormErr;
    }
    for (let i = 0; i < arcount; i++) {
      const nameAt = pos;
      const afterName = skipName(buf, pos, len);
      if (afterName < 0 || afterName + 10 > len) return ParseStatus.FormErr;
      const type = (buf[afterName] << 8) | buf[afterName + 1];
      const rdlen = (buf[afterName + 8] << 8) | buf[afterName + 9];
      const rdata = afterName + 10;
      if (rdata + rdlen > len) return ParseStatus.FormErr;
      if (type === Type.OPT) {
        // RFC 6891: one OPT, owned by the root. With two there is no telling which one the error
        // answer's OPT would answer: it has none, as BIND's and NSD's have none.
        if (this.hasEdns) {
          this.hasEdns = false;
          return ParseStatus.FormErr;
        }
        if (buf[nameAt] !== 0) return ParseStatus.FormErr;
        this.hasEdns = true;
        this.ednsUdpSize = (buf[afterName + 2] << 8) | buf[afterName + 3];
        this.ednsVersion = buf[afterName + 5];
        this.ednsDo = (buf[afterName + 6] & 0x80) !== 0;
        if (!this.readOptions(buf, rdata, rdata + rdlen)) return ParseStatus.FormErr;
      } else if (type === Type.TSIG) {
        if (i !== arcount - 1 || !this.readTsig(buf, nameAt, rdata, rdata + rdlen)) return ParseStatus.FormErr;
      }
      pos = rdata + rdlen;
    }
    // Bytes after the last record are not read: BIND 9.18 and NSD 4.6 answer such a query as if
    // they were not there (test/server/opt-placement.test.ts), and RFC 8906 asks servers not to
    // refuse what they can answer.
    return this.qdcount === 1 ? ParseStatus.Ok : ParseStatus.FormErr;
  }

  /** Reads the question at offset 12; the offset after it, or -1 when malformed. */
  private readQuestion(buf: Uint8Array, len: number): number {
    // Question name: plain labels only (a pointer in a question has nothing to point back to).
    let pos = HEADER_LEN;
    let h = 0x811c9dc5;
    for (;;) {
      if (pos >= len) return -1;
      const l = buf[pos];
      if (l === 0) {
        h = Math.imul(h, 0x01000193); // hash of the 0 byte: h ^ 0 = h
        pos++;
        break;
      }
      if (l > 63 || this.labelCount >= MAX_LABELS) return -1;
      if (pos + 1 + l > len) return -1;
      this.labelStarts[this.labelCount++] = pos;
      h = Math.imul(h ^ l, 0x01000193);
      for (let i = pos + 1; i <= pos + l; i++) {
        let c = buf[i];
        if (c >= 0x41 && c <= 0x5a) c |= 0x20;
        h = Math.imul(h ^ c, 0x01000193);
      }
      pos += 1 + l;
      // The root label's byte counts too: a name is at most 255 bytes on the wire (RFC 1035 §3.1).
      if (pos - HEADER_LEN + 1 > MAX_NAME_LEN) return -1;
    }
    if (pos + 4 > len) return -1;
    this.qhash = h >>> 0;
    this.qnameEnd = pos;
    this.qtype = (buf[pos] << 8) | buf[pos + 1];
    this.qclass = (buf[pos + 2] << 8) | buf[pos + 3];
    pos += 4;
    this.questionEnd = pos;
    return pos;
  }

  /** Checks a TSIG record's layout (RFC 8945 §4.2) and records where its fields are. */
  private readTsig(buf: Uint8Array, nameAt: number, rdata: number, end: number): boolean {
    const algEnd = skipName(buf, rdata, end);
    // Time Signed (6), Fudge (2), MAC Size (2), MAC, Original ID (2), Error (2), Other Len (2), Other.
    if (algEnd < 0 || algEnd + 10 > end) return false;
    const idAt = algEnd + 10 + ((buf[algEnd + 8] << 8) | buf[algEnd + 9]);
    if (idAt + 6 > end || idAt + 6 + ((buf[idAt + 4] << 8) | buf[idAt + 5]) !== end) return false;
    if (!pointsIntoQuestion(buf, nameAt, this.questionEnd) || !pointsIntoQuestion(buf, rdata, this.questionEnd)) return false;
    this.tsigName = nameAt;
    this.tsigAlgorithm = rdata;
    this.tsigAlgorithmEnd = algEnd;
    this.tsigOriginalId = idAt;
    return true;
  }

  private readOptions(buf: Uint8Array, start: number, end: number): boolean {
    let p = start;
    while (p < end) {
      const olen = p + 4 <= end ? (buf[p + 2] << 8) | buf[p + 3] : 0;
      if (p + 4 > end || p + 4 + olen > end) {
        // Options that do not fit the record: the OPT itself is unreadable, and the error answer
        // has none (as BIND's and NSD's); a readable OPT with a bad option value keeps its OPT
        // (RFC 6891 §7).
        this.hasEdns = false;
        return false;
      }
      const code = (buf[p] << 8) | buf[p + 1];
      if (code === EdnsOption.NSID) this.wantsNsid = true;
      else if (code === EdnsOption.COOKIE) {
        // RFC 7873: an 8-byte client cookie, optionally followed by an 8–32 byte server cookie.
        if (olen !== 8 && (olen < 16 || olen > 40)) return false;
        this.cookieStart = p + 4;
        this.cookieLen = olen;
      }
      p += 4 + olen;
    }
    return true;
  }
}

/** Offset after a (possibly compressed) name, or -1. */
export function skipName(buf: Uint8Array, pos: number, len: number): number {
  for (let guard = 0; guard < 128; guard++) {
    if (pos >= len) return -1;
    const l = buf[pos];
    if (l === 0) return pos + 1;
    if ((l & 0xc0) === 0xc0) return pos + 2 <= len ? pos + 2 : -1;
    if (l > 63) return -1;
    pos += 1 + l;
  }
  return -1;
}

/** Whether a name (already bounds-checked by skipName) is plain or ends in a pointer into [12, limit). */
function pointsIntoQuestion(buf: Uint8Array, pos: number, limit: number): boolean {
  for (;;) {
    const l = buf[pos];
    if (l === 0) return true;
    if ((l & 0xc0) === 0xc0) {
      const target = ((l & 0x3f) << 8) | buf[pos + 1];
      return target >= HEADER_LEN && target < limit;
    }
    pos += 1 + l;
  }
}

export function skipRecord(buf: Uint8Array, pos: number, len: number): number {
  const p = skipName(buf, pos, len);
  if (p < 0 || p + 10 > len) return -1;
  const end = p + 10 + ((buf[p + 8] << 8) | buf[p + 9]);
  return end <= len ? end : -1;
}
