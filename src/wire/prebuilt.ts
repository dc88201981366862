import { Flag, HEADER_LEN, Type } from './constants';
import type { Record } from './records';
import { MessageWriter } from './writer';

/**
 * A response compiled ahead of time: everything after the question section, with the counts and
 * flags to put in the header. At query time the server copies the query's question (keeping its
 * letter case) and this body behind a patched header.
 *
 * Compression pointers in the body point into the question, so the body is only valid behind a
 * question whose name has the same length as the one it was built for. For answers that serve many
 * names (NXDOMAIN) the body is built behind the zone apex alone and `relocatable` is set: every
 * pointer is then shifted by the extra length of the actual question name (`relocate`).
 */
export interface Prebuilt {
  /** AA and the low 4 rcode bits, OR-ed into the response flags. */
  readonly flags: number;
  readonly an: number;
  readonly ns: number;
  readonly ar: number;
  readonly body: Buffer;
  /** Offsets in `body` of compression pointers (only for relocatable bodies). */
  readonly pointers: Uint16Array | undefined;
  /**
   * Where the additional section starts in `body` ([0]) and where each of its `ar` records ends
   * ([1..ar]). Additional records are optional data (RFC 2181 §9): an answer cut after record k,
   * with ar = k, is still complete, since compression pointers only point backwards.
   */
  readonly additionalEnds: Uint16Array;
}

export interface Sections {
  readonly rcode: number;
  readonly authoritative: boolean;
  readonly answer: readonly Record[];
  readonly authority: readonly Record[];
  readonly additional: readonly Record[];
}

/** An end no answer fits in: the responder never cuts there (see `continuesRRset`). */
const NO_CUT = 0xffff;

/**
 * RFC 2181 §5.1 and RFC 4035 §3.1.1: an RRset goes whole, and with its RRSIGs, or not at all; the
 * responder's truncation cuts only between such groups.
 */
function continuesRRset(r: Record, next: Record | undefined): boolean {
  if (!next || next.name !== r.name) return false;
  return next.data.type === r.data.type || (next.data.type === Type.RRSIG && next.data.sig.typeCovered === (r.data.type === Type.RRSIG ? r.data.sig.typeCovered : r.data.type));
}

export function prebuild(qname: string, qtype: number, qclass: number, s: Sections, relocatable = false): Prebuilt {
  const w = new MessageWriter();
  w.seek(HEADER_LEN);
  w.question(qname, qtype, qclass);
  const start = w.length;
  for (const r of s.answer) w.record(r);
  for (const r of s.authority) w.record(r);
  const additionalEnds = new Uint16Array(s.additional.length + 1);
  additionalEnds[0] = w.length - start;
  s.additional.forEach((r, i) => {
    w.record(r);
    additionalEnds[i + 1] = continuesRRset(r, s.additional[i + 1]) ? NO_CUT : w.length - start;
  });
  return {
    flags: (s.authoritative ? Flag.AA : 0) | (s.rcode & 0xf),
    an: s.answer.length,
    ns: s.authority.length,
    ar: s.additional.length,
    body: w.slice(start),
    pointers: relocatable ? Uint16Array.from(w.pointers.filter((p) => p >= start).map((p) => p - start)) : undefined,
    additionalEnds,
  };
}

/**
 * Copies the first `length` bytes of a body into `out` at `at`; a relocatable body has its pointers
 * shifted by `delta` bytes.
 */
export function copyRelocated(p: Prebuilt, out: Buffer, at: number, delta: number, length = p.body.length): void {
  p.body.copy(out, at, 0, length);
  if (!p.pointers || delta === 0) return;
  for (let i = 0; i < p.pointers.length; i++) {
    if (p.pointers[i] >= length) continue;
    const o = at + p.pointers[i];
    const target = (((out[o] & 0x3f) << 8) | out[o + 1]) + delta;
    out[o] = 0xc0 | (target >> 8);
    out[o + 1] = target & 0xff;
  }
}
