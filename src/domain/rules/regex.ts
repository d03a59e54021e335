/**
 * Regular expressions written by workspace users (the `matches` operator). They run against customer
 * data on every ingested event, so a pattern must never be able to stall the process (ReDoS).
 *
 * The rule, as users see it:
 * - at most 200 characters; flags: none, or `i` (case-insensitive); always Unicode mode (`u`);
 * - JavaScript syntax; refused: backreferences (`\1`, `\k<name>`), lookahead and lookbehind
 *   (`(?=`, `(?!`, `(?<=`, `(?<!`), and nested quantifiers — a group repeated more than once may not
 *   contain `*`, `+`, `?` or `{m,n}` (`(a+)+`, `(a*)*`, `(\w+\s?)+`); a fixed count inside is fine
 *   (`(\d{3}-)+`);
 * - `{n}` repetitions may expand to at most 400 matcher steps (`a{400}` is the limit);
 * - only the first 2,000 characters of a value are looked at (`$` means the end of those).
 *
 * The refusals keep patterns portable and obviously cheap; the actual guarantee comes from the
 * matcher: accepted patterns run on a linear-time Pike VM (`regex-vm.ts`), never on the backtracking
 * native engine, because native RegExp is slow even on patterns the rules above accept (`\d+\d+x`
 * takes seconds on 2,000 digits).
 */
import { parseRegex } from './regex-parse.js';
import { MAX_PROGRAM, Program, programSize } from './regex-vm.js';

export const MAX_PATTERN_LENGTH = 200;
export const MAX_INPUT_LENGTH = 2000;

export type RegexFlags = '' | 'i';

export class SafeRegex {
  private constructor(
    readonly source: string,
    readonly flags: RegexFlags,
    private readonly program: Program,
  ) {}

  /** The compiled pattern, or why it is refused (a sentence fit to show the user). */
  static compile(source: string, flags: string = ''): SafeRegex | string {
    if (flags !== '' && flags !== 'i') return 'flags may only be "i" (case-insensitive)';
    if (source.length > MAX_PATTERN_LENGTH) {
      return `pattern is longer than ${MAX_PATTERN_LENGTH} characters`;
    }
    const nativeFlags = `u${flags}`;
    try {
      new RegExp(source, nativeFlags);
    } catch (e) {
      const detail =
        e instanceof SyntaxError ? e.message.replace(/^Invalid regular expression: \/.*\/\w*: /s, '') : '';
      return `not a valid regular expression${detail ? ` (${detail})` : ''}`;
    }
    const tree = parseRegex(source);
    if (typeof tree === 'string') return tree;
    if (programSize(tree) > MAX_PROGRAM) {
      return `pattern is too large once its {n} repetitions are expanded (limit ${MAX_PROGRAM} steps)`;
    }
    return new SafeRegex(source, flags, new Program(tree, nativeFlags));
  }

  /** Does the pattern match somewhere in the first 2,000 characters of `s`? */
  test(s: string): boolean {
    return this.program.run(s.length > MAX_INPUT_LENGTH ? s.slice(0, MAX_INPUT_LENGTH) : s);
  }

  /** `/source/flags`, as in explanations. */
  toString(): string {
    return `/${this.source}/${this.flags}`;
  }

  /** Rules holding a regex serialise it as its literal, not as the compiled matcher. */
  toJSON(): string {
    return this.toString();
  }
}
