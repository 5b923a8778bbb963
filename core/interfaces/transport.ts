/**
 * Transport: how miners and a validator talk (spec/market.md §2 A–B, §8; spec/protocol.md §7).
 *
 * Two sides, both runtime-agnostic:
 * - `ValidatorService` is what a validator exposes to a server adaptor. The adaptor (`plugins/transport-http`
 *   puts it on hono routes) owns the framing: it stamps the arrival time before reading a body, enforces the
 *   body caps while reading (413), parses the precommit JSON against the wire schema (BAD_SCHEMA), requires the
 *   receipt header on `/submit` (PRECOMMIT_REQUIRED) and maps results to status codes. The service owns every
 *   admission decision: it receives a *typed* precommit (market §2 A from the window check on) and the *exact
 *   bytes* of a reveal (§2 B: the bytes are what the precommit committed to, so nothing parses them first).
 * - `Transport` is what a miner calls (`plugins/transport-http` implements it with `fetch`). A refusal is a
 *   normal answer (`accepted: false` plus a reason); only a failure to get a well-formed answer at all throws,
 *   as a `TransportError`.
 *
 * Times are unix seconds (floats), as on the wire (`upload_deadline_ts`, verdict `ts`).
 *
 * @example
 *   // validator side: adapt a service
 *   const app = httpServer(service, { profile });
 *   // miner side
 *   const t = httpClient({ baseUrl: 'http://127.0.0.1:8899', profile });
 *   const s = await t.state();                      // null while no window is installed
 *   const r = await t.precommit(signedPrecommit);  // { accepted, reason, receipt_id, upload_deadline_ts }
 *   if (r.accepted && r.receipt_id) await t.submit(r.receipt_id, bodyBytes);
 */
import type { Rejection } from '../protocol/reasons.ts';
import type {
  BatchSubmissionResponse,
  GrpoBatchState,
  SubmissionPrecommitRequest,
  SubmissionPrecommitResponse,
  Verdict,
} from '../protocol/wire.ts';

/** A value, or a promise of it: service methods may answer synchronously. */
export type MaybePromise<T> = T | Promise<T>;

// Validator side

/** Why `/state` has nothing to show: no window installed (503), or an environment this window does not run (404). */
export type StateUnavailable = 'no_active_window' | 'unknown_env';

/** The answer to `GET /state[?env=]`. */
export type StateResult =
  | { readonly ok: true; readonly value: GrpoBatchState }
  | { readonly ok: false; readonly error: StateUnavailable; readonly message?: string };

/** A receipt for one reveal (market §2 A): reserves bytes and quota, never a prompt or a slot. */
export interface PrecommitReceipt {
  /** Opaque token (upstream `token_urlsafe(32)`), echoed in the receipt header of `/submit`. */
  readonly receiptId: string;
  /** `min(arrival + upload grace, open + collection + upload grace)`, unix seconds. */
  readonly uploadDeadlineTs: number;
}

/** The answer to a precommit: a receipt (the same one for a repeated signature), or the first failed gate. */
export type PrecommitResult =
  | { readonly ok: true; readonly receipt: PrecommitReceipt }
  | { readonly ok: false; readonly rejection: Rejection };

/** The answer to a reveal: queued (`submitted`), or refused; a consumed receipt answers its stored outcome again. */
export type SubmitResult = { readonly ok: true } | { readonly ok: false; readonly rejection: Rejection };

/** One upload as the server received it. */
export interface Upload {
  /** The exact body bytes (at most the payload cap). */
  readonly body: Uint8Array;
  /** The declared `Content-Length`, or null when none was sent; not necessarily `body.length`. */
  readonly contentLength: number | null;
  /** When the request arrived, before its body was read (unix seconds). */
  readonly arrivalTs: number;
  /** When the last body byte was read (unix seconds): the time `PRECOMMIT_EXPIRED` is judged on. */
  readonly completedTs: number;
}

/** A reveal: an upload plus the receipt from its header. */
export interface RevealUpload extends Upload {
  readonly receiptId: string;
}

/** What `/submit` knows before reading a body byte: the receipt header, the declared length, the arrival stamp. */
export interface UploadHead {
  readonly receiptId: string;
  readonly contentLength: number | null;
  readonly arrivalTs: number;
}

/**
 * The answer to an upload head: read at most `maxBytes` (the receipt's committed `payload_bytes`) and stop reading
 * at `deadlineTs` (unix seconds), or answer `result` without reading the body.
 */
export type UploadPermit =
  | { readonly ok: true; readonly maxBytes: number; readonly deadlineTs: number }
  | { readonly ok: false; readonly result: SubmitResult };

/** The checkpoint manifest served at `GET /checkpoint` (market §7). */
export interface CheckpointManifest {
  readonly checkpoint_n: number;
  readonly repo_id: string;
  readonly revision: string;
  /** sr25519 signature over ASCII `"<n>|<revision>"` (upstream labels it `ed25519:`+hex). */
  readonly signature: string;
}

/** `GET /health`: a status plus whatever counters the validator reports. */
export interface HealthReport {
  readonly status: 'ok' | 'degraded';
  readonly [field: string]: unknown;
}

/**
 * The validator as a server adaptor sees it. Every method may answer synchronously or with a promise; a method
 * that throws is a validator fault (the adaptor answers 500 and reveals nothing).
 */
export interface ValidatorService {
  /** The window state for `env` (default: the first environment); market §8. */
  state(env?: string): MaybePromise<StateResult>;
  /**
   * Market §2 A from the window check on (the request already passed the wire schema). `arrivalTs` was stamped
   * before the body was read: the drand round is judged against it, with zero tolerance.
   */
  precommit(request: SubmissionPrecommitRequest, arrivalTs: number): MaybePromise<PrecommitResult>;
  /** Market §2 B after the header check: receipt, stored outcome, Content-Length, expiry, size and sha256, queue. */
  submit(upload: RevealUpload): MaybePromise<SubmitResult>;
  /**
   * Optional: market §2 B up to the body, asked before any body byte of a reveal is read (unknown, consumed or
   * expired receipt, wrong Content-Length → answered unread). A permit marks the receipt as being uploaded until
   * `submit` or `uploadAborted` is called for it.
   */
  admitUpload?(head: UploadHead): MaybePromise<UploadPermit>;
  /** Optional: the body of a permitted upload never arrived (the client went away); the receipt is usable again. */
  uploadAborted?(receiptId: string): MaybePromise<void>;
  /**
   * Optional legacy direct `/submit` (no receipt header). Absent: such requests get PRECOMMIT_REQUIRED without
   * their body being read. Present: its WINDOW_MISMATCH answers HTTP 409 (protocol §8).
   */
  submitDirect?(upload: Upload): MaybePromise<SubmitResult>;
  /** The hotkey's recent verdicts with `ts > since`; the adaptor sorts, trims to the ring and drops null fields. */
  verdicts(hotkey: string, since: number): MaybePromise<readonly Verdict[]>;
  /** The current checkpoint manifest, or null before the first publish (404). */
  checkpoint(): MaybePromise<CheckpointManifest | null>;
  /** Liveness and counters. */
  health(): MaybePromise<HealthReport>;
}

// Miner side

/** A validator as a miner reaches it. Refusals are answers; transport failures throw `TransportError`. */
export interface Transport {
  /** Plugin name, e.g. `http`. */
  readonly name: string;
  /** `GET /state[?env=]`; null while the validator has no window installed. Unknown env → `unknown_env` error. */
  state(env?: string): Promise<GrpoBatchState | null>;
  /** `POST /submit/precommit`; the answer carries `receipt_id` and `upload_deadline_ts` when accepted. */
  precommit(request: SubmissionPrecommitRequest): Promise<SubmissionPrecommitResponse>;
  /** `POST /submit` with the receipt header and exactly `bytes` (the body whose sha256 and size were precommitted). */
  submit(receiptId: string, bytes: Uint8Array): Promise<BatchSubmissionResponse>;
  /** `GET /verdicts/{hotkey}?since=`: ascending by `ts`, each with `ts > since` (default 0: the whole ring). */
  verdicts(hotkey: string, since?: number): Promise<Verdict[]>;
  /** `GET /checkpoint`; null before the first publish. */
  checkpoint(): Promise<CheckpointManifest | null>;
}

/** Why a transport call produced no answer. Wire values are the lowercase strings. */
export const TransportErrorCode = Object.freeze({
  /** The request never got a response (connection refused, reset, DNS). */
  NETWORK: 'network',
  /** No complete response within the timeout. */
  TIMEOUT: 'timeout',
  /** An HTTP status the endpoint does not answer with (e.g. 500, 502). */
  HTTP: 'http',
  /** A response that is not JSON or does not match the wire schema. */
  BAD_RESPONSE: 'bad_response',
  /** `/state?env=` named an environment the open window does not run (404). */
  UNKNOWN_ENV: 'unknown_env',
} as const);

export type TransportErrorCode = (typeof TransportErrorCode)[keyof typeof TransportErrorCode];

/** A transport call that produced no well-formed answer. `message` says what happened and what to check. */
export class TransportError extends Error {
  override readonly name = 'TransportError';
  readonly code: TransportErrorCode;
  /** The request, as `METHOD url`. */
  readonly request: string;
  /** The HTTP status, when a response arrived. */
  readonly status: number | undefined;

  constructor(code: TransportErrorCode, request: string, message: string, status?: number, options?: { cause?: unknown }) {
    super(`${request}: ${message}`, options);
    this.code = code;
    this.request = request;
    this.status = status;
  }
}

/** True when `e` is a TransportError, optionally of one code. */
export function isTransportError(e: unknown, code?: TransportErrorCode): e is TransportError {
  return e instanceof TransportError && (code === undefined || e.code === code);
}
