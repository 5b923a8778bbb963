/**
 * Bounds of a reveal body (`POST /submit`, spec/market.md §2 B–C) and the bounded parse that enforces them.
 *
 * A reveal is one `BatchSubmissionRequest`: M rollouts, each carrying its token ids twice (`tokens` and
 * `commit.tokens`), one `{"sketch": int}` commitment per token and at most one log-probability per token, plus a
 * fixed envelope. Every one of those lengths is bounded by the profile, so the largest body an honest miner can
 * send is a function of the profile, not a flat 64 MiB; `maxRevealBytes` is that function. Gate A refuses a
 * precommit whose `payload_bytes` exceeds it, `/submit` never reads more, and the worker never parses more.
 *
 * Derivation, upper bounds per token with Python's `json.dumps` separators (`", "`, `": "`; JS `JSON.stringify`
 * is more compact):
 *   - a token id, twice:            2 × (digits(vocab − 1) + 2)
 *   - a commitment `{"sketch": N}, `: 11 + 11 (a 31-bit sketch, 10 digits, a sign allowed) + 1 + 2 = 25
 *   - a log-probability, `repr(float)`: 24 (`-2.2250738585072014e-308`) + 2 = 26
 * so `bytesPerToken = 2·digits(vocab − 1) + 55` (v4: 67, devnet: 59). A rollout holds at most `maxContext`
 * tokens (prompt + completion; more is BAD_TOKENS), plus `PER_ROLLOUT_OVERHEAD` for its keys, reward, signature,
 * beacon, model, metadata and env name, and the request adds `REQUEST_OVERHEAD` (routing, nonce, checkpoint,
 * envelope signature, runtime fingerprint, each string at its cap and fully `\uXXXX`-escaped):
 *   maxRevealBytes = min(maxPayloadBytes, M · (maxContext · bytesPerToken + PER_ROLLOUT_OVERHEAD) + REQUEST_OVERHEAD)
 * v4: 16 · (32768 · 67 + 2048) + 16384 = 35 176 448 B (~33.5 MiB); devnet: 16 · (256 · 59 + 2048) + 16384 =
 * 290 816 B (~284 KiB). The profile knob `admission.revealCap` chooses it (`'derived'`) or the flat cap (`'flat'`,
 * v4 upstream).
 *
 * `parseRevealBody` parses within those bounds before any object is built: size ≤ cap, nesting ≤
 * `SUBMISSION_MAX_DEPTH` (the deepest the schema admits) and at most `maxRevealValues` array/object separators,
 * checked by one linear byte scan; then `JSON.parse`. A hostile body (64 MiB of `[[[[…`, or millions of tiny
 * values) is refused with BAD_SCHEMA after reading a few bytes, or in one pass, never by building it.
 *
 * @example
 *   maxRevealBytes(DEVNET);               // 290816
 *   const json = parseRevealBody(bytes, DEVNET);
 *   if (!json.ok) refuse(json.rejection); // BAD_SCHEMA, with the offending byte offset
 */
import type { Profile } from '../profile/index.ts';
import { HTTP_STATUS, Reason, reject, type Rejection } from './reasons.ts';
import { parseJsonBody, type ParseResult } from './wire.ts';

/**
 * The deepest array/object nesting a `BatchSubmissionRequest` admits: body → rollouts[] → rollout → commit →
 * rollout metadata → token_logprobs[] (also commitments[] → {sketch}, force_span[]) = 6.
 */
export const SUBMISSION_MAX_DEPTH = 6;
/** Bytes of one rollout besides its per-token arrays: keys, reward, signature (128 hex), beacon, model, metadata, env. */
export const PER_ROLLOUT_OVERHEAD = 2048;
/** Bytes of the request besides its rollouts: routing, strings at their caps fully escaped, runtime fingerprint. */
export const REQUEST_OVERHEAD = 16 * 1024;
/** Separators (`,`) one rollout needs besides its 4 per-token arrays (metadata fields, force span). */
const PER_ROLLOUT_SEPARATORS = 64;
/** Separators of the request envelope and runtime fingerprint. */
const REQUEST_SEPARATORS = 256;

/** Wire bytes one token costs at most: its id twice, its `{"sketch": N}` commitment and its log-probability. */
export function bytesPerToken(p: Profile): number {
  const idDigits = String(Math.max(0, p.model.vocabSize - 1)).length;
  return 2 * (idDigits + 2) + 25 + 26;
}

/** The derived reveal bound of the module comment, at most `wire.maxPayloadBytes`. */
export function derivedRevealBytes(p: Profile): number {
  const perRollout = p.model.maxContext * bytesPerToken(p) + PER_ROLLOUT_OVERHEAD;
  return Math.min(p.wire.maxPayloadBytes, p.wire.rolloutsPerGroup * perRollout + REQUEST_OVERHEAD);
}

/** The reveal body cap of `p`: the derived bound, or the flat `wire.maxPayloadBytes` when `admission.revealCap` is `'flat'`. */
export function maxRevealBytes(p: Profile): number {
  return p.admission.revealCap === 'flat' ? p.wire.maxPayloadBytes : derivedRevealBytes(p);
}

/** Array/object separators a reveal may hold: four per-token arrays per rollout plus fixed fields. */
export function maxRevealValues(p: Profile): number {
  return p.wire.rolloutsPerGroup * (4 * p.model.maxContext + PER_ROLLOUT_SEPARATORS) + REQUEST_SEPARATORS;
}

/** Limits of `scanJsonBounds`. */
export interface JsonBounds {
  readonly maxDepth: number;
  /** `,` separators outside strings, at most (each value but the first of a container costs one). */
  readonly maxSeparators: number;
}

/**
 * One pass over UTF-8 JSON bytes, outside strings: the first nesting deeper than `maxDepth` or separator (`,`)
 * beyond `maxSeparators`, as a message naming the byte offset; null when neither happens. Syntax is left to
 * `JSON.parse`. Self-contained (no free variables), so a host can ship its source to a worker as is.
 */
export function jsonBoundsViolation(bytes: Uint8Array, maxDepth: number, maxSeparators: number): string | null {
  let depth = 0;
  let separators = 0;
  let inString = false;
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i]!;
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped byte
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > maxDepth) return `JSON nested deeper than ${maxDepth} levels at byte ${i}; a submission nests at most ${maxDepth}`;
    } else if (c === 0x5d || c === 0x7d) depth--;
    else if (c === 0x2c && ++separators > maxSeparators) {
      return `more than ${maxSeparators} JSON values at byte ${i}; a submission of this profile holds at most that many`;
    }
  }
  return null;
}

/** `jsonBoundsViolation` as a BAD_SCHEMA rejection, or null. */
export function scanJsonBounds(bytes: Uint8Array, bounds: JsonBounds): Rejection | null {
  const bad = jsonBoundsViolation(bytes, bounds.maxDepth, bounds.maxSeparators);
  return bad === null ? null : reject(Reason.BAD_SCHEMA, bad);
}

/** The bounds a reveal of `p` is scanned with. */
export function revealBounds(p: Profile): JsonBounds {
  return { maxDepth: SUBMISSION_MAX_DEPTH, maxSeparators: maxRevealValues(p) };
}

/** A body over the reveal cap of `p` (BAD_SCHEMA, HTTP 413), or null. */
export function revealTooLarge(body: Uint8Array, p: Profile): Rejection | null {
  const cap = maxRevealBytes(p);
  return body.byteLength > cap ? reject(Reason.BAD_SCHEMA, `body is ${body.byteLength} bytes, expected at most ${cap} bytes`, undefined, HTTP_STATUS.PAYLOAD_TOO_LARGE) : null;
}

/** Parses a reveal body within the bounds of `p`: size (HTTP 413), depth and value count (BAD_SCHEMA), then JSON. */
export function parseRevealBody(body: Uint8Array, p: Profile): ParseResult<unknown> {
  const bad = revealTooLarge(body, p) ?? scanJsonBounds(body, revealBounds(p));
  if (bad) return { ok: false, rejection: bad };
  return parseJsonBody(body, maxRevealBytes(p));
}

/**
 * The parser seam of the admission worker: bytes → the parsed JSON value or a rejection, possibly off the caller's
 * thread (hosts/node/reveal-parser-pool.ts runs it in worker threads with a time budget).
 */
export type RevealParser = (body: Uint8Array) => Promise<ParseResult<unknown>>;

/** The default `RevealParser`: `parseRevealBody` in-process (bounded work, but on the caller's thread). */
export function inProcessRevealParser(p: Profile): RevealParser {
  return function parseRevealInProcess(body) {
    return Promise.resolve(parseRevealBody(body, p));
  };
}
