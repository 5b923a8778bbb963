/**
 * Typed access to one conformance case's `args`, with errors that say exactly where a file is malformed.
 *
 * Vector files are parsed with the Python-compatible JSON parser, so ints and floats stay distinct
 * (`1` vs `1.0`) — that matters for the legacy Merkle root, whose leaves hash Python's json.dumps.
 */
import { PyFloat } from '../../../core/protocol/pyjson.ts';

/** A case (or the whole file) does not follow the vector-file format. */
export class MalformedCase extends Error {
  constructor(
    readonly where: string,
    message: string,
  ) {
    super(`${where}: ${message}`);
  }
}

/** A plain-object view of a parsed JSON object (Map or object), or null when `v` is not an object. */
export function asRecord(v: unknown): Record<string, unknown> | null {
  if (v instanceof Map) return Object.fromEntries(v) as Record<string, unknown>;
  if (v && typeof v === 'object' && !Array.isArray(v) && !(v instanceof PyFloat)) return v as Record<string, unknown>;
  return null;
}

/** The float value of a parsed JSON number (int, bigint or PyFloat), or the special-float strings. */
export function numberOf(v: unknown): number | null {
  if (v instanceof PyFloat) return v.value;
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (v === 'nan') return NaN;
  if (v === 'inf') return Infinity;
  if (v === '-inf') return -Infinity;
  return null;
}

function describe(v: unknown): string {
  if (v instanceof PyFloat) return `float ${v.value}`;
  if (Array.isArray(v)) return 'list';
  if (v === null) return 'null';
  return typeof v;
}

/** Reads typed arguments of one case; every getter throws MalformedCase naming `cases[i].args.key`. */
export class ArgReader {
  private readonly rec: Record<string, unknown>;
  constructor(
    raw: unknown,
    private readonly where: string,
  ) {
    const rec = asRecord(raw);
    if (!rec) throw new MalformedCase(where, `"args" must be an object, got ${describe(raw)}`);
    this.rec = rec;
  }

  private get(key: string): unknown {
    if (!(key in this.rec)) throw new MalformedCase(`${this.where}.${key}`, 'missing argument');
    return this.rec[key];
  }

  private fail(key: string, expected: string, v: unknown): never {
    throw new MalformedCase(`${this.where}.${key}`, `expected ${expected}, got ${describe(v)}`);
  }

  /** The raw parsed value (ints, bigints, PyFloats, strings, lists, objects). */
  raw(key: string): unknown {
    return this.get(key);
  }

  has(key: string): boolean {
    return key in this.rec;
  }

  int(key: string): number {
    const v = this.get(key);
    const n = typeof v === 'bigint' ? Number(v) : v instanceof PyFloat ? v.value : v;
    if (typeof n !== 'number' || !Number.isSafeInteger(n)) this.fail(key, 'an integer', v);
    return n;
  }

  /**
   * An integer of any size, exactly (Python ints are unbounded; the vector parser keeps ints beyond 2^53 as
   * bigint). An integral float is accepted as {@link int} accepts it.
   */
  bigint(key: string): bigint {
    const v = this.get(key);
    if (typeof v === 'bigint') return v;
    const n = v instanceof PyFloat ? v.value : v;
    if (typeof n !== 'number' || !Number.isSafeInteger(n)) this.fail(key, 'an integer', v);
    return BigInt(n);
  }

  bool(key: string): boolean {
    const v = this.get(key);
    if (typeof v !== 'boolean') this.fail(key, 'a boolean', v);
    return v;
  }

  float(key: string): number {
    const v = this.get(key);
    const n = numberOf(v);
    if (n === null) this.fail(key, 'a number', v);
    return n;
  }

  str(key: string): string {
    const v = this.get(key);
    if (typeof v !== 'string') this.fail(key, 'a string', v);
    return v;
  }

  list(key: string): unknown[] {
    const v = this.get(key);
    if (!Array.isArray(v)) this.fail(key, 'a list', v);
    return v;
  }

  ints(key: string): number[] {
    return this.list(key).map((x, i) => {
      const n = typeof x === 'bigint' ? Number(x) : x;
      if (typeof n !== 'number' || !Number.isSafeInteger(n)) this.fail(`${key}[${i}]`, 'an integer', x);
      return n;
    });
  }

  floats(key: string): number[] {
    return this.list(key).map((x, i) => {
      const n = numberOf(x);
      if (n === null) this.fail(`${key}[${i}]`, 'a number', x);
      return n;
    });
  }

  strs(key: string): string[] {
    return this.list(key).map((x, i) => {
      if (typeof x !== 'string') this.fail(`${key}[${i}]`, 'a string', x);
      return x;
    });
  }

  /** A list of objects, each as a record. */
  records(key: string): Record<string, unknown>[] {
    return this.list(key).map((x, i) => {
      const r = asRecord(x);
      if (!r) this.fail(`${key}[${i}]`, 'an object', x);
      return r;
    });
  }
}
