/**
 * `httpServer(service, options)`: the validator's HTTP API (spec/market.md §8) as a hono app over a
 * `ValidatorService` (core/interfaces/transport.ts). Runtime-agnostic: it uses only web `Request`/`Response`
 * streams, so the same app runs under Node (`listen-node.ts`), Deno, Bun or in-process (`app.request`).
 *
 * Routes, exactly:
 *   GET  /state[?env=]          → GrpoBatchState · 503 {detail:"no_active_window"} · 404 {detail:"unknown_env"}
 *   POST /submit/precommit      → {accepted, reason, receipt_id?, upload_deadline_ts?} · 413 over 16 KiB
 *   POST /submit                → {accepted, reason} · 413 over the reveal cap · 409 legacy direct window mismatch
 *   GET  /verdicts/:hotkey?since= → {verdicts[]}: ascending ts, strictly ts > since, last `verdictRing`, nulls dropped
 *   GET  /checkpoint            → manifest · 404 {detail:"no_checkpoint"}
 *   GET  /health                → {status: ok|degraded, …}
 *
 * What the app does before the service sees a request:
 * - stamps the arrival time in middleware, before any body byte is read (the drand round is judged on it);
 * - reads bodies as streams and stops past the cap: a declared `Content-Length` over the cap is refused unread,
 *   and at most `cap` bytes are ever kept (413, BAD_SCHEMA);
 * - `/submit/precommit`: refuses a body whose length differs from its declared `Content-Length`, then parses the
 *   JSON and the wire schema (BAD_SCHEMA, the offending field named), as upstream parses the request model before
 *   its handler; the service gets the typed request;
 * - `/submit`: without the receipt header answers PRECOMMIT_REQUIRED unread (unless the service has a legacy
 *   `submitDirect`); with it, first asks the service's `admitUpload` (if any) about the receipt and the declared
 *   length, so an unknown, consumed or expired receipt is answered with the body unread (`Connection: close`), and
 *   an admitted body is read up to the receipt's `payload_bytes` and no later than its upload deadline; then hands
 *   the service the exact bytes, the declared length and both timestamps. A client that goes away mid-body gives
 *   the receipt back (`uploadAborted`). The body cap defaults to `maxRevealBytes(profile)`.
 *
 * Refusals are `200 {accepted:false, reason}` except as `httpStatusFor` says (413, 409). Each refusal also
 * carries the human-readable message in the `X-Reliquary-Detail` header (a JSON string, ASCII-escaped), so the
 * wire body stays exactly the strict schema; bad envelope signatures add `Connection: close` (protocol §6).
 *
 * @example
 *   const app = httpServer(service, { profile: DEVNET });
 *   const res = await app.request('/state');
 */
import { Hono, type Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { SubmitResult, Upload, ValidatorService } from '../../core/interfaces/transport.ts';
import { V4, type Profile } from '../../core/profile/index.ts';
import { HTTP_STATUS, REASON_INFO, Reason, httpStatusFor, reject, type Rejection, type SubmitRoute } from '../../core/protocol/reasons.ts';
import { maxRevealBytes } from '../../core/protocol/reveal-body.ts';
import { parseJsonBody, parsePrecommit, type Verdict } from '../../core/protocol/wire.ts';
import { DETAIL_HEADER, encodeDetail } from './detail.ts';

/** Options of `httpServer`; caps, header and ring default to the profile's values. */
export interface HttpServerOptions {
  /** Wire schemas, caps, receipt header and verdict ring come from it. */
  profile: Profile;
  /** `/submit` body cap in bytes (default `maxRevealBytes(profile)`: derived from the profile, or 64 MiB when flat). */
  maxPayloadBytes: number | undefined;
  /** `/submit/precommit` body cap in bytes (default `profile.wire.maxPrecommitBodyBytes`, 16 KiB). */
  maxPrecommitBodyBytes: number | undefined;
  /** Verdicts returned per hotkey at most (default `profile.http.verdictRing`, 200). */
  verdictRing: number | undefined;
  /** Wall clock, unix seconds (stamps arrivals and body completion). */
  clock: () => number;
  /** Called with a service fault before the app answers 500 (default: `console.error`). */
  onError: (error: unknown, route: string) => void;
}

/** Documented defaults; `httpServer` merges its options over these. */
export const HTTP_SERVER_DEFAULTS: Readonly<HttpServerOptions> = Object.freeze({
  profile: V4,
  maxPayloadBytes: undefined,
  maxPrecommitBodyBytes: undefined,
  verdictRing: undefined,
  clock: function unixNow() {
    return Date.now() / 1000;
  },
  onError: function logError(error: unknown, route: string) {
    console.error(`transport-http: ${route} failed:`, error);
  },
});

/** A body read stops this long after its receipt's upload deadline (then the service answers PRECOMMIT_EXPIRED). */
const UPLOAD_DEADLINE_SLACK_MS = 50;

/** Per-request variables set by the middleware. */
export type HttpServerEnv = { Variables: { arrivalTs: number } };

/** What a capped body read produced; `complete: false` when the read stopped at its time limit. */
export type CappedBody =
  | { readonly ok: true; readonly bytes: Uint8Array; readonly declared: number | null; readonly complete: boolean }
  | { readonly ok: false; readonly rejection: Rejection };

/** The declared `Content-Length`: null when absent, NaN when malformed. */
function declaredLength(request: Request): number | null {
  const header = request.headers.get('content-length');
  return header === null ? null : /^\s*\d{1,15}\s*$/.test(header) ? Number(header) : NaN;
}

function malformedLength(request: Request): Rejection {
  return reject(Reason.BAD_SCHEMA, `malformed Content-Length ${JSON.stringify(request.headers.get('content-length'))}`, undefined, 400);
}

/**
 * Reads `request`'s body, keeping at most `cap` bytes: a declared `Content-Length` above `cap` is refused without
 * reading, and reading stops (the stream is cancelled) as soon as more than `cap` bytes have arrived. Both give
 * BAD_SCHEMA with HTTP 413. A malformed `Content-Length` gives BAD_SCHEMA with HTTP 400. With `timeLimitMs`,
 * reading stops after that long and what arrived is returned with `complete: false`.
 */
export async function readCappedBody(request: Request, cap: number, timeLimitMs?: number): Promise<CappedBody> {
  const declared = declaredLength(request);
  if (Number.isNaN(declared)) {
    discard(request);
    return { ok: false, rejection: malformedLength(request) };
  }
  if (declared !== null && declared > cap) {
    discard(request);
    return { ok: false, rejection: tooLarge(`Content-Length ${declared}`, cap) };
  }
  const chunks: Uint8Array[] = [];
  let total = 0;
  if (request.body) {
    const reader = request.body.getReader();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeUp = timeLimitMs === undefined ? null : new Promise<'time'>((resolve) => (timer = setTimeout(() => resolve('time'), Math.min(2 ** 31 - 1, Math.max(0, timeLimitMs)))));
    try {
      for (;;) {
        const next = timeUp ? await Promise.race([reader.read(), timeUp]) : await reader.read();
        if (next === 'time') {
          reader.cancel().catch(() => {});
          return { ok: true, bytes: concat(chunks, total), declared, complete: false };
        }
        const { done, value } = next;
        if (done) break;
      total += value.byteLength;
      if (total > cap) {
        reader.cancel().catch(() => {});
        return { ok: false, rejection: tooLarge(`more than ${cap} bytes`, cap) };
      }
        chunks.push(value);
      }
    } finally {
      if (timer !== undefined) clearTimeout(timer);
    }
  }
  return { ok: true, bytes: concat(chunks, total), declared, complete: true };
}

function tooLarge(got: string, cap: number): Rejection {
  return reject(Reason.BAD_SCHEMA, `body of ${got}, expected at most ${cap} bytes`, undefined, HTTP_STATUS.PAYLOAD_TOO_LARGE);
}

function discard(request: Request): void {
  request.body?.cancel().catch(() => {});
}

function concat(chunks: readonly Uint8Array[], total: number): Uint8Array {
  if (chunks.length === 1 && chunks[0]) return chunks[0];
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

/** Drops null and undefined fields (upstream `response_model_exclude_none`). */
function dropNulls(v: Verdict): Verdict {
  return Object.fromEntries(Object.entries(v).filter(([, x]) => x !== null && x !== undefined)) as Verdict;
}

/** The verdicts to serve: `ts > since`, ascending by `ts` (stable), the newest `ring`, without null fields. */
export function selectVerdicts(verdicts: readonly Verdict[], since: number, ring: number): Verdict[] {
  const newer = verdicts.filter((v) => v.ts > since).sort((a, b) => a.ts - b.ts);
  return newer.slice(Math.max(0, newer.length - ring)).map(dropNulls);
}

/** The validator's HTTP API over `service` (routes in the module comment). */
export function httpServer(service: ValidatorService, options: Partial<HttpServerOptions> = {}): Hono<HttpServerEnv> {
  const o: HttpServerOptions = { ...HTTP_SERVER_DEFAULTS, ...options };
  const { profile } = o;
  const payloadCap = o.maxPayloadBytes ?? maxRevealBytes(profile);
  const precommitCap = o.maxPrecommitBodyBytes ?? profile.wire.maxPrecommitBodyBytes;
  const ring = o.verdictRing ?? profile.http.verdictRing;
  for (const [k, v] of [['maxPayloadBytes', payloadCap], ['maxPrecommitBodyBytes', precommitCap], ['verdictRing', ring]] as const) {
    if (!(Number.isSafeInteger(v) && v >= 0)) throw new RangeError(`httpServer: \`${k}\` must be a non-negative integer, got ${v}`);
  }
  const header = profile.wire.precommitHeader;

  /** `{accepted:false, reason}` with the status of `route`, the detail header and, if due, `Connection: close`. */
  function refuse(c: Context<HttpServerEnv>, r: Rejection, route: SubmitRoute): Response {
    c.header(DETAIL_HEADER, encodeDetail(r.message));
    if (REASON_INFO[r.reason].closeConnection) c.header('Connection', 'close');
    return c.json({ accepted: false, reason: r.reason }, httpStatusFor(r, route) as ContentfulStatusCode);
  }

  const app = new Hono<HttpServerEnv>();

  app.use('*', async function stampArrival(c, next) {
    c.set('arrivalTs', o.clock());
    await next();
  });

  app.get('/state', async function state(c) {
    const env = c.req.query('env');
    const r = await service.state(env === undefined || env === '' ? undefined : env);
    if (r.ok) return c.json(r.value);
    return c.json({ detail: r.error, ...(r.message ? { message: r.message } : {}) }, r.error === 'no_active_window' ? 503 : 404);
  });

  app.post('/submit/precommit', async function precommit(c) {
    const arrivalTs = c.get('arrivalTs');
    const body = await readCappedBody(c.req.raw, precommitCap);
    if (!body.ok) return refuse(c, body.rejection, 'precommit');
    if (body.declared !== null && body.declared !== body.bytes.byteLength) {
      const r = reject(Reason.BAD_SCHEMA, `body is ${body.bytes.byteLength} bytes but Content-Length says ${body.declared}`);
      return refuse(c, r, 'precommit');
    }
    const json = parseJsonBody(body.bytes, precommitCap);
    if (!json.ok) return refuse(c, json.rejection, 'precommit');
    const req = parsePrecommit(json.value, profile);
    if (!req.ok) return refuse(c, req.rejection, 'precommit');
    const r = await service.precommit(req.value, arrivalTs);
    if (!r.ok) return refuse(c, r.rejection, 'precommit');
    return c.json({
      accepted: true,
      reason: Reason.ACCEPTED,
      receipt_id: r.receipt.receiptId,
      upload_deadline_ts: r.receipt.uploadDeadlineTs,
    });
  });

  app.post('/submit', async function submit(c) {
    const arrivalTs = c.get('arrivalTs');
    const receiptId = c.req.header(header)?.trim() ?? '';
    // A reveal goes to `submit`; without a receipt, to the legacy `submitDirect` if the service has one.
    const handle = receiptId !== '' ? (u: Upload) => service.submit({ ...u, receiptId }) : service.submitDirect?.bind(service);
    if (!handle) {
      discard(c.req.raw);
      return refuse(c, reject(Reason.PRECOMMIT_REQUIRED, `missing ${header} header`, header), 'submit');
    }
    const route: SubmitRoute = receiptId === '' ? 'direct-submit' : 'submit';
    const answer = (r: SubmitResult): Response => (r.ok ? c.json({ accepted: true, reason: Reason.SUBMITTED }) : refuse(c, r.rejection, route));
    let cap = payloadCap;
    let timeLimitMs: number | undefined;
    const admitted = receiptId !== '' && service.admitUpload !== undefined;
    if (admitted) {
      // The receipt before any body byte: a refusal leaves the body unread and the connection closing.
      const contentLength = declaredLength(c.req.raw);
      if (Number.isNaN(contentLength)) {
        discard(c.req.raw);
        return refuse(c, malformedLength(c.req.raw), route);
      }
      const permit = await service.admitUpload!({ receiptId, contentLength, arrivalTs });
      if (!permit.ok) {
        discard(c.req.raw);
        c.header('Connection', 'close');
        return answer(permit.result);
      }
      cap = Math.min(cap, permit.maxBytes);
      timeLimitMs = (permit.deadlineTs - o.clock()) * 1000 + UPLOAD_DEADLINE_SLACK_MS;
    }
    let body: CappedBody;
    try {
      body = await readCappedBody(c.req.raw, cap, timeLimitMs);
    } catch (e) {
      if (admitted) await service.uploadAborted?.(receiptId);
      throw e;
    }
    if (!body.ok) {
      if (admitted) await service.uploadAborted?.(receiptId);
      return refuse(c, body.rejection, route);
    }
    return answer(await handle({ body: body.bytes, contentLength: body.declared, arrivalTs, completedTs: o.clock() }));
  });

  app.get('/verdicts/:hotkey', async function verdicts(c) {
    const raw = c.req.query('since');
    const since = raw === undefined || raw.trim() === '' ? 0 : Number(raw);
    if (!Number.isFinite(since)) return c.json({ detail: 'bad_since', message: `since=${JSON.stringify(raw)} is not a number of unix seconds` }, 400);
    const list = await service.verdicts(c.req.param('hotkey'), since);
    return c.json({ verdicts: selectVerdicts(list, since, ring) });
  });

  app.get('/checkpoint', async function checkpoint(c) {
    const m = await service.checkpoint();
    return m ? c.json(m) : c.json({ detail: 'no_checkpoint' }, 404);
  });

  app.get('/health', async function health(c) {
    return c.json(await service.health());
  });

  app.notFound((c) => c.json({ detail: 'not_found' }, 404));
  app.onError((err, c) => {
    o.onError(err, `${c.req.method} ${c.req.path}`);
    return c.json({ detail: 'internal_error' }, 500);
  });
  return app;
}
