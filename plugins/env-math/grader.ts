/**
 * The math environment's grader (spec/training.md §3.3, upstream v4 `openmathinstruct`).
 *
 * `mathReward(completion, groundTruth)` extracts the last `\boxed{}`/`\fbox{}`, normalises both sides
 * (`normalize.ts`) and tries, in order:
 *
 *   1. same-shape structures: a matrix (`matrix:RxC`) or a tuple/interval (signature = opening bracket),
 *      compared element-wise after re-normalising each element;
 *   2. both plain numbers: exact rational equality, no numeric fallback;
 *   3. identical strings;
 *   4. LaTeX numeric value (each side ≤ 100 characters): `|a−b| ≤ 1e-9(1+|b|)`;
 *   5. algebraic identity (each side ≤ 100 characters, both with a symbol, ≤ 2000 monomials).
 *
 * The upstream quirks a v4-compatible grader must reproduce are kept on purpose (listed in the spec and
 * in the tests): exact-only plain numbers, `\sqrt[n]{}` and `2^{1/2}` never numeric, |exponent| > 10
 * refused, letter-then-`(` and adjacent letters refused symbolically, tuples ignoring the closing bracket,
 * the `\ ` removal breaking spaced matrices, Unicode `\d`/`\s`, and `2\frac{1}{2}` read as a product.
 */
import { hex, utf8 } from '../../core/protocol/codec.ts';
import { sha256 } from '../../core/protocol/hash.ts';
import {
  evalComplex,
  expandTermBound,
  exprStrIsSafe,
  hasSymbol,
  isSafe,
  latexToExpr,
  parseExpr,
  type Expr,
} from './cas.ts';
import { extractBoxed, lastBoxedSpan } from './extract.ts';
import { isPyDigit, normalizeAnswer, pyDigitValue, pyStrip } from './normalize.ts';
import { expandedDifferenceIsZero } from './poly.ts';

/** The exact instruction appended to every math prompt. */
export { MATH_PROMPT_SUFFIX } from '../../core/tokenizer/prompts.ts';

/** Longest side (characters) the LaTeX numeric and algebraic rungs accept. */
export const LATEX_MAX_CHARS = 100;
/** Most monomials the algebraic rung lets an expansion produce. */
export const EXPAND_TERM_CAP = 2000;
/** Tolerance of the numeric rung: `|a−b| ≤ NUMERIC_RTOL·(1+|b|)`. */
export const NUMERIC_RTOL = 1e-9;

/** Special tokens whose presence in the last box makes a failing answer malformed. */
const CHAT_TOKENS = ['<|im_end|>', '<|endoftext|>', '<|im_start|>'] as const;

/** CPython's `int()` refuses decimal strings longer than this (`sys.int_info.default_max_str_digits`). */
const PY_INT_MAX_STR_DIGITS = 4300;

/** The prompt a miner and the validator both encode (one definition, core/tokenizer/prompts.ts). */
export { mathPrompt } from '../../core/tokenizer/prompts.ts';

/** `sha256(problem)[:16]` in hex, computed without the suffix. */
export function mathProblemId(problem: string): string {
  return hex(sha256(utf8(problem))).slice(0, 16);
}

// ---------------------------------------------------------------------------------------------
// Rung 2: plain numbers as exact rationals
// ---------------------------------------------------------------------------------------------

/** An exact rational, `n/d` with d > 0 (not reduced). */
export interface Rational {
  readonly n: bigint;
  readonly d: bigint;
}

function digitRun(chars: string[], i: number): number {
  let j = i;
  while (j < chars.length && isPyDigit(chars[j] ?? '')) j++;
  return j;
}

function digitsValue(chars: string[]): bigint | null {
  if (chars.length > PY_INT_MAX_STR_DIGITS) return null;
  return BigInt(chars.map(pyDigitValue).join(''));
}

/**
 * `[+-]?\d+(\.\d+)?(/\d+)?` (Unicode digits) read as Python's `Fraction` reads it, else null.
 * `Fraction` refuses a decimal with a denominator (`1.5/2`), a zero denominator, and digit runs
 * over CPython's 4300-digit `int()` limit; those return null too.
 * @example asNumber('82.50') // { n: 8250n, d: 100n }
 */
export function asNumber(s: string): Rational | null {
  const c = Array.from(s);
  const i = c[0] === '+' || c[0] === '-' ? 1 : 0;
  const negative = c[0] === '-';
  const intEnd = digitRun(c, i);
  if (intEnd === i) return null;
  let j = intEnd;
  let frac: string[] = [];
  if (c[j] === '.') {
    const e = digitRun(c, j + 1);
    if (e === j + 1) return null;
    frac = c.slice(j + 1, e);
    j = e;
  }
  let den: string[] | null = null;
  if (c[j] === '/') {
    const e = digitRun(c, j + 1);
    if (e === j + 1) return null;
    den = c.slice(j + 1, e);
    j = e;
  }
  if (j !== c.length) return null;
  if (den !== null && c[intEnd] === '.') return null; // Fraction('1.5/2') raises
  const whole = digitsValue(c.slice(i, intEnd));
  const fracV = frac.length > 0 ? digitsValue(frac) : 0n;
  const denV = den !== null ? digitsValue(den) : 1n;
  if (whole === null || fracV === null || denV === null || denV === 0n) return null;
  const scale = 10n ** BigInt(frac.length);
  const n = whole * scale + fracV;
  return { n: negative ? -n : n, d: scale * denV };
}

// ---------------------------------------------------------------------------------------------
// Rung 1: structures
// ---------------------------------------------------------------------------------------------

/** A matrix or tuple: its signature (`matrix:RxC`, `(` or `[`) and its elements in reading order. */
export interface Structure {
  readonly signature: string;
  readonly elements: readonly string[];
}

const MATRIX = /\\begin\{[bp]?matrix\}([\s\S]*?)\\end\{[bp]?matrix\}/;

/** Splits a matrix (`\begin{b|p|}matrix`, rectangular) or a bracketed tuple with a comma, else null. */
export function splitStructure(s: string): Structure | null {
  const m = MATRIX.exec(s);
  if (m) {
    const rows = (m[1] ?? '')
      .split('\\\\')
      .map((row) => row.split('&').map(pyStrip).filter((cell) => cell !== ''))
      .filter((row) => row.length > 0);
    const width = rows[0]?.length ?? 0;
    if (width === 0 || rows.some((row) => row.length !== width)) return null;
    return { signature: `matrix:${rows.length}x${width}`, elements: rows.flat() };
  }
  const first = s[0] ?? '';
  const last = s[s.length - 1] ?? '';
  if (s.length >= 2 && '(['.includes(first) && ')]'.includes(last) && s.includes(',')) {
    return { signature: first, elements: s.slice(1, -1).split(',').map(pyStrip) };
  }
  return null;
}

// ---------------------------------------------------------------------------------------------
// Rungs 4 and 5: LaTeX value and algebraic identity
// ---------------------------------------------------------------------------------------------

function parseBoth(candidate: string, gt: string, allowSymbols: boolean): [Expr, Expr] | null {
  if (!candidate || !gt || candidate.length > LATEX_MAX_CHARS || gt.length > LATEX_MAX_CHARS) return null;
  const ec = latexToExpr(candidate);
  const eg = latexToExpr(gt);
  if (ec === null || eg === null) return null;
  if (!exprStrIsSafe(ec, allowSymbols) || !exprStrIsSafe(eg, allowSymbols)) return null;
  return [parseExpr(ec), parseExpr(eg)];
}

/** Rung 4: both sides evaluate to complex numbers within `1e-9(1+|b|)`; refusals are false. */
export function latexValueEqual(candidate: string, gt: string): boolean {
  try {
    const parsed = parseBoth(candidate, gt, false);
    if (parsed === null) return false;
    const [xc, xg] = parsed;
    if (!isSafe(xc) || !isSafe(xg)) return false;
    const a = evalComplex(xc);
    const b = evalComplex(xg);
    return Math.hypot(a[0] - b[0], a[1] - b[1]) <= NUMERIC_RTOL * (1 + Math.hypot(b[0], b[1]));
  } catch {
    return false; // CasRefusal, or anything unexpected: upstream treats every error as "not equal"
  }
}

/** Rung 5: both sides contain a symbol and their expanded difference is identically zero. */
export function latexSymbolicEqual(candidate: string, gt: string): boolean {
  try {
    const parsed = parseBoth(candidate, gt, true);
    if (parsed === null) return false;
    const [xc, xg] = parsed;
    if (!hasSymbol(xc) || !hasSymbol(xg)) return false;
    if (!isSafe(xc, true) || !isSafe(xg, true)) return false;
    if (expandTermBound(xc, EXPAND_TERM_CAP) > EXPAND_TERM_CAP || expandTermBound(xg, EXPAND_TERM_CAP) > EXPAND_TERM_CAP) {
      return false;
    }
    return expandedDifferenceIsZero(xc, xg);
  } catch {
    return false; // CasRefusal, or anything unexpected: upstream treats every error as "not equal"
  }
}

// ---------------------------------------------------------------------------------------------
// The ladder and the reward
// ---------------------------------------------------------------------------------------------

/** The equivalence ladder on two already-normalised answers. */
export function answersEqual(candidate: string, gt: string): boolean {
  const cs = splitStructure(candidate);
  const gs = splitStructure(gt);
  if (cs !== null && gs !== null && cs.signature === gs.signature) {
    return (
      cs.elements.length === gs.elements.length &&
      cs.elements.every((a, k) => answersEqual(normalizeAnswer(a), normalizeAnswer(gs.elements[k] ?? '')))
    );
  }
  const c = asNumber(candidate);
  const g = asNumber(gt);
  if (c !== null && g !== null) return c.n * g.d === g.n * c.d;
  if (candidate === gt) return true;
  return latexValueEqual(candidate, gt) || latexSymbolicEqual(candidate, gt);
}

/**
 * The binary v4 math reward: 1 when the last boxed answer equals the ground truth, else 0. Never throws.
 * @example mathReward('so \\boxed{\\dfrac{1}{2}}', '0.5') // 1
 */
export function mathReward(completion: string, groundTruth: string): 0 | 1 {
  try {
    const boxed = extractBoxed(String(completion));
    if (boxed === null) return 0;
    const gt = normalizeAnswer(String(groundTruth));
    if (gt === '') return 0;
    return answersEqual(normalizeAnswer(boxed), gt) ? 1 : 0;
  } catch {
    return 0;
  }
}

/**
 * The malformed-final-answer rule: a failing rollout (reward < 0.5) whose **last** box opener is unclosed,
 * empty, or holds a chat special token. A completion without any box is not malformed.
 */
export function isMalformedFinalAnswer(completion: string, reward: number): boolean {
  if (!(reward < 0.5)) return false;
  const text = String(completion);
  const idx = Math.max(text.lastIndexOf('\\boxed{'), text.lastIndexOf('\\fbox{'));
  if (idx < 0) return false;
  const span = lastBoxedSpan(text);
  if (span === null) return true;
  const inner = extractBoxed(text) ?? '';
  return pyStrip(inner) === '' || CHAT_TOKENS.some((t) => inner.includes(t));
}
