/**
 * Redis's glob (`stringmatchlen` in util.c, case-sensitive), matched without recursion and without
 * a RegExp: `*`, `?`, `[abc]`, `[^a-z]`, `[z-a]` (a reversed range is swapped), `\x`; an unclosed
 * `[` takes the rest of the pattern as its set. Every token but `*` consumes exactly one character,
 * so the classic two-pointer scan with one remembered star is exact and costs at most
 * len(tokens) × len(text) steps: 40 stars and an `x` cost no more than the same scan once.
 */

type Token =
  | { readonly k: 'star' }
  | { readonly k: 'one' }
  | { readonly k: 'char'; readonly c: number }
  /** A set of the 256 byte values (strings are latin1 here), negated when `not`. */
  | { readonly k: 'set'; readonly bits: Uint8Array; readonly not: boolean };

const STAR: Token = { k: 'star' };
const ONE: Token = { k: 'one' };

/**
 * The pattern as tokens, by the same steps as `stringmatchlen`: where a class ends never depends
 * on the text, so it is read once. Consecutive stars are one (Redis skips them too).
 */
export function tokenize(pattern: string): Token[] {
  const out: Token[] = [];
  const n = pattern.length;
  const at = (i: number) => (i < n ? pattern.charCodeAt(i) & 0xff : 0);
  let i = 0;
  while (i < n) {
    const c = at(i);
    if (c === 0x2a /* * */) {
      if (out[out.length - 1] !== STAR) out.push(STAR);
      i++;
    } else if (c === 0x3f /* ? */) {
      out.push(ONE);
      i++;
    } else if (c === 0x5b /* [ */) {
      i++;
      const not = at(i) === 0x5e; /* ^ */
      if (not) i++;
      const bits = new Uint8Array(32);
      const set = (b: number) => (bits[b >> 3] |= 1 << (b & 7));
      for (;;) {
        const left = n - i;
        if (at(i) === 0x5c /* \ */ && left >= 2) {
          i++;
          set(at(i));
        } else if (left > 0 && at(i) === 0x5d /* ] */) {
          break;
        } else if (left <= 0) {
          // Unclosed: Redis steps back so that the step past `]` below lands on the end.
          i--;
          break;
        } else if (left >= 3 && at(i + 1) === 0x2d /* - */) {
          let lo = at(i);
          let hi = at(i + 2);
          if (lo > hi) [lo, hi] = [hi, lo];
          for (let b = lo; b <= hi; b++) set(b);
          i += 2;
        } else set(at(i));
        i++;
      }
      i++;
      out.push({ k: 'set', bits, not });
    } else if (c === 0x5c /* \ */ && n - i >= 2) {
      out.push({ k: 'char', c: at(i + 1) });
      i += 2;
    } else {
      out.push({ k: 'char', c });
      i++;
    }
  }
  return out;
}

function accepts(t: Token, c: number): boolean {
  if (t.k === 'one') return true;
  if (t.k === 'char') return t.c === c;
  if (t.k === 'set') return (((t.bits[c >> 3] >> (c & 7)) & 1) === 1) !== t.not;
  return false;
}

/** Whether the tokens match all of `text` (latin1: one byte per character). */
export function matchTokens(tokens: readonly Token[], text: string): boolean {
  // Redis never enters its loop for an empty text: only an empty pattern matches it.
  if (text.length === 0) return tokens.length === 0;
  let t = 0;
  let s = 0;
  let starT = -1;
  let starS = 0;
  while (s < text.length) {
    const tok = tokens[t];
    if (tok === STAR) {
      starT = t++;
      starS = s;
    } else if (tok !== undefined && accepts(tok, text.charCodeAt(s) & 0xff)) {
      t++;
      s++;
    } else if (starT >= 0) {
      // Let the last star take one more character and try the rest again from there.
      t = starT + 1;
      s = ++starS;
    } else return false;
  }
  while (tokens[t] === STAR) t++;
  return t === tokens.length;
}

export function globMatch(pattern: string, text: string): boolean {
  return matchTokens(tokenize(pattern), text);
}

/**
 * A matcher for one pattern and many texts: tokenized once, and a pattern that needs more
 * characters than a text has is refused at once, so a long pattern costs its length once.
 */
export function compileGlob(pattern: string): (text: string) => boolean {
  const tokens = tokenize(pattern);
  let need = 0;
  for (const t of tokens) if (t !== STAR) need++;
  return (text) => need <= text.length && matchTokens(tokens, text);
}
