/**
 * A linear-time matcher for the `regex-parse.ts` tree: the tree compiles to a small program and a
 * Pike VM runs every alternative in lock step, one input code point at a time, so a test costs at most
 * (input length × program size) steps whatever the pattern — no backtracking, hence no ReDoS.
 *
 * Why not the native engine: V8 backtracks, and even patterns with no nested quantifier are
 * polynomial — `\d+\d+x` against 2,000 digits takes seconds there. Native RegExp is still used, but
 * only to decide whether ONE code point belongs to a class or escape (`[a-z]`, `\p{L}`, `.`), which is
 * constant time, and those answers are cached.
 */
import type { AssertKind, ReNode } from './regex-parse.js';

const CHAR = 0;
const SPLIT = 1;
const JMP = 2;
const ASSERT = 3;
const MATCH = 4;

const ASSERT_CODES: Record<AssertKind, number> = { start: 0, end: 1, word: 2, nonword: 3 };

type Pred = (cp: number) => boolean;

/**
 * Program size limit: bounds the per-character cost once `{n,m}` copies are expanded. 400 fits any
 * 200-character pattern without counted repetition; the worst accepted pattern (`.{0,199}x`) costs
 * about 12 ms on a 2,000-character value, an everyday one (`^[a-z]+@example\.com$`) about 1 µs.
 */
export const MAX_PROGRAM = 400;

/** Program length `node` compiles to, without the final MATCH (checked before emitting: may be huge). */
export function programSize(node: ReNode): number {
  switch (node.t) {
    case 'char':
    case 'assert':
      return 1;
    case 'cat':
      return node.items.reduce((n, x) => n + programSize(x), 0);
    case 'alt':
      return node.alts.reduce((n, x) => n + programSize(x), 0) + 2 * (node.alts.length - 1);
    case 'rep': {
      const body = programSize(node.body);
      const optional = node.max === Infinity ? body + 2 : (node.max - node.min) * (body + 1);
      return node.min * body + optional;
    }
  }
}

/** A native predicate for one code point, answers cached (ASCII in a table, the rest in a bounded map). */
function nativePredicate(src: string, flags: string): Pred {
  const re = new RegExp(`^(?:${src})$`, flags);
  const ascii = new Int8Array(128); // 0 = not yet asked, 1 = yes, 2 = no
  const other = new Map<number, boolean>();
  return (cp) => {
    if (cp < 128) {
      let v = ascii[cp] ?? 0;
      if (v === 0) {
        v = re.test(String.fromCharCode(cp)) ? 1 : 2;
        ascii[cp] = v;
      }
      return v === 1;
    }
    let v = other.get(cp);
    if (v === undefined) {
      v = re.test(String.fromCodePoint(cp));
      if (other.size < 4096) other.set(cp, v);
    }
    return v;
  };
}

export class Program {
  private readonly op: Uint8Array;
  private readonly a: Int32Array;
  private readonly b: Int32Array;
  private readonly preds: Pred[];
  private readonly isWord: Pred;
  /** the pattern begins with `^`: only one start position can match. */
  private readonly anchored: boolean;
  // Scratch buffers reused across runs (JS is single-threaded and `run` never re-enters).
  private readonly mark: Int32Array;
  private readonly stack: Int32Array;
  private clist: Int32Array;
  private nlist: Int32Array;
  private gen = 0;

  constructor(root: ReNode, flags: string) {
    const ops: number[] = [];
    const as: number[] = [];
    const bs: number[] = [];
    const preds: Pred[] = [];
    const predCache = new Map<string, number>();
    const emit = (o: number, x = 0, y = 0): number => {
      ops.push(o);
      as.push(x);
      bs.push(y);
      return ops.length - 1;
    };
    const charPred = (n: Extract<ReNode, { t: 'char' }>): number => {
      const key = n.literal !== null && !flags.includes('i') ? `=${n.literal}` : n.src;
      let idx = predCache.get(key);
      if (idx === undefined) {
        const lit = n.literal;
        preds.push(lit !== null && !flags.includes('i') ? (cp) => cp === lit : nativePredicate(n.src, flags));
        idx = preds.length - 1;
        predCache.set(key, idx);
      }
      return idx;
    };
    const compile = (n: ReNode): void => {
      switch (n.t) {
        case 'char':
          emit(CHAR, charPred(n));
          return;
        case 'assert':
          emit(ASSERT, ASSERT_CODES[n.kind]);
          return;
        case 'cat':
          for (const x of n.items) compile(x);
          return;
        case 'alt': {
          const jumps: number[] = [];
          n.alts.forEach((alt, k) => {
            if (k < n.alts.length - 1) {
              const split = emit(SPLIT, ops.length + 1);
              compile(alt);
              jumps.push(emit(JMP));
              bs[split] = ops.length;
            } else compile(alt);
          });
          for (const j of jumps) as[j] = ops.length;
          return;
        }
        case 'rep': {
          for (let k = 0; k < n.min; k++) compile(n.body);
          if (n.max === Infinity) {
            const split = emit(SPLIT, ops.length + 1);
            compile(n.body);
            emit(JMP, split);
            bs[split] = ops.length;
          } else {
            const splits: number[] = [];
            for (let k = n.min; k < n.max; k++) {
              splits.push(emit(SPLIT, ops.length + 1));
              compile(n.body);
            }
            for (const sp of splits) bs[sp] = ops.length;
          }
          return;
        }
      }
    };
    compile(root);
    emit(MATCH);
    this.op = Uint8Array.from(ops);
    this.a = Int32Array.from(as);
    this.b = Int32Array.from(bs);
    this.preds = preds;
    this.isWord = nativePredicate('\\w', flags);
    this.anchored = startsAnchored(root);
    this.mark = new Int32Array(ops.length);
    this.stack = new Int32Array(ops.length);
    this.clist = new Int32Array(ops.length);
    this.nlist = new Int32Array(ops.length);
  }

  /** Does the pattern match anywhere in `input`? */
  run(input: string): boolean {
    if (this.gen > 0x3fffffff) {
      this.mark.fill(0);
      this.gen = 0;
    }
    const { op, a, preds, anchored } = this;
    let clist = this.clist;
    let nlist = this.nlist;
    let gen = ++this.gen;
    let clen = 0;
    let prev = -1;
    let i = 0;
    for (;;) {
      const cp = i < input.length ? input.codePointAt(i)! : -1;
      if (i === 0 || !anchored) {
        clen = this.add(clist, clen, 0, gen, prev, cp);
        if (clen < 0) return true;
      }
      if (cp < 0 || (clen === 0 && anchored)) return false;
      const width = cp > 0xffff ? 2 : 1;
      const nextCp = i + width < input.length ? input.codePointAt(i + width)! : -1;
      const ngen = ++this.gen;
      let nlen = 0;
      for (let k = 0; k < clen; k++) {
        const pc = clist[k]!;
        if (op[pc] === CHAR && preds[a[pc]!]!(cp)) {
          nlen = this.add(nlist, nlen, pc + 1, ngen, cp, nextCp);
          if (nlen < 0) return true;
        }
      }
      const t = clist;
      clist = nlist;
      nlist = t;
      clen = nlen;
      gen = ngen;
      prev = cp;
      i += width;
    }
  }

  /**
   * Adds `pc0` and everything reachable from it without consuming input to `list` (at the position
   * between code points `prev` and `next`, -1 meaning the edge of the input). Each instruction enters
   * a list at most once per position (`mark`), which is what bounds the work. Returns the new length,
   * or -1 when MATCH is reachable.
   */
  private add(list: Int32Array, len: number, pc0: number, gen: number, prev: number, next: number): number {
    const { op, a, b, mark, stack } = this;
    if (mark[pc0] === gen) return len;
    mark[pc0] = gen;
    let sp = 0;
    stack[sp++] = pc0;
    while (sp > 0) {
      const pc = stack[--sp]!;
      const o = op[pc];
      if (o === CHAR) {
        list[len++] = pc;
        continue;
      }
      if (o === MATCH) return -1;
      let x = -1;
      let y = -1;
      if (o === SPLIT) {
        x = a[pc]!;
        y = b[pc]!;
      } else if (o === JMP) x = a[pc]!;
      else if (this.assertHolds(a[pc]!, prev, next)) x = pc + 1;
      // y pushed first so x (the preferred branch) is explored first; order does not change the answer.
      if (y >= 0 && mark[y] !== gen) {
        mark[y] = gen;
        stack[sp++] = y;
      }
      if (x >= 0 && mark[x] !== gen) {
        mark[x] = gen;
        stack[sp++] = x;
      }
    }
    return len;
  }

  private assertHolds(kind: number, prev: number, next: number): boolean {
    if (kind === 0) return prev < 0;
    if (kind === 1) return next < 0;
    const boundary = (prev >= 0 && this.isWord(prev)) !== (next >= 0 && this.isWord(next));
    return kind === 2 ? boundary : !boundary;
  }
}

function startsAnchored(n: ReNode): boolean {
  if (n.t === 'assert') return n.kind === 'start';
  if (n.t === 'cat') return n.items[0] !== undefined && startsAnchored(n.items[0]);
  if (n.t === 'alt') return n.alts.every(startsAnchored);
  return false;
}
