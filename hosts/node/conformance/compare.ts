/**
 * Comparison of a function's result with a vector's `expect`, and the printable form of both.
 *
 * `exact` compares floats bit for bit (NaN equals NaN); `tolerance` allows |got − expected| ≤ abs + rel·|expected|
 * for functions whose upstream value may come from float32 tensor maths (the GRPO scalars).
 */
import { PyFloat } from '../../../core/protocol/pyjson.ts';
import { asRecord, numberOf } from './args.ts';

export type FloatRule = { kind: 'exact' } | { kind: 'tolerance'; abs: number; rel: number };

export const EXACT: FloatRule = { kind: 'exact' };

function floatEqual(got: number, want: number, rule: FloatRule): boolean {
  if (Number.isNaN(want)) return Number.isNaN(got);
  if (got === want) return true;
  if (rule.kind === 'exact' || !Number.isFinite(want) || !Number.isFinite(got)) return false;
  return Math.abs(got - want) <= rule.abs + rule.rel * Math.abs(want);
}

/**
 * Exact equality when either side is a bigint, as Python compares an int with an int or a float (no rounding:
 * 2**60+7 != 1.152921504606847e18).
 */
function intEqual(got: number | bigint, want: unknown): boolean {
  const exact = (x: unknown): bigint | null => {
    if (typeof x === 'bigint') return x;
    const n = x instanceof PyFloat ? x.value : x;
    return typeof n === 'number' && Number.isInteger(n) ? BigInt(n) : null;
  };
  const g = exact(got);
  const w = exact(want);
  return g !== null && w !== null && g === w;
}

/** Deep equality of a computed value with the parsed `expect` value. */
export function matches(got: unknown, want: unknown, rule: FloatRule): boolean {
  if (want === null || typeof want === 'boolean') return got === want;
  if (typeof want === 'string' && typeof got === 'string') return got === want;
  const wn = numberOf(want);
  if (wn !== null && (typeof got === 'number' || typeof got === 'bigint')) {
    if (typeof got === 'bigint' || typeof want === 'bigint') return intEqual(got, want);
    return floatEqual(got, wn, rule);
  }
  if (Array.isArray(want)) {
    return Array.isArray(got) && got.length === want.length && want.every((w, i) => matches(got[i], w, rule));
  }
  const wr = asRecord(want);
  const gr = asRecord(got);
  if (wr && gr) {
    const keys = Object.keys(wr);
    return keys.length === Object.keys(gr).length && keys.every((k) => k in gr && matches(gr[k], wr[k], rule));
  }
  return false;
}

/**
 * JSON-ish rendering for messages: special floats as "nan"/"inf"/"-inf", bigints as their exact digits (unquoted,
 * as Python prints an int of any size).
 */
export function show(v: unknown, max = 200): string {
  const out = render(v) ?? String(v);
  return out.length > max ? `${out.slice(0, max)}…` : out;
}

/** JSON.stringify's rendering, except bigints are bare exact digits; undefined where JSON would omit the value. */
function render(x: unknown): string | undefined {
  if (x instanceof PyFloat) x = x.value;
  if (typeof x === 'bigint') return x.toString();
  if (typeof x === 'number' && !Number.isFinite(x)) return JSON.stringify(Number.isNaN(x) ? 'nan' : x > 0 ? 'inf' : '-inf');
  if (x instanceof Map) x = Object.fromEntries(x);
  if (Array.isArray(x)) return `[${x.map((e) => render(e) ?? 'null').join(',')}]`;
  if (x !== null && typeof x === 'object') {
    const parts: string[] = [];
    for (const [k, e] of Object.entries(x)) {
      const r = render(e);
      if (r !== undefined) parts.push(`${JSON.stringify(k)}:${r}`);
    }
    return `{${parts.join(',')}}`;
  }
  return JSON.stringify(x);
}
