/**
 * transport-http server: every route of market §8 and its status codes, the body caps at exactly cap and cap+1
 * (and an endless body), Content-Length handling, the receipt header, arrival stamping before the body is read,
 * precommit parsing (malformed JSON, unknown keys), verdict filtering, and service faults. In-process through
 * `app.request`, over the fake service of `transport-http-fake.ts`.
 */
import { describe, expect, it, vi } from 'vitest';
import { httpServer, decodeDetail, DETAIL_HEADER } from '../../plugins/transport-http/index.ts';
import type { RevealUpload } from '../../core/interfaces/transport.ts';
import { maxRevealBytes } from '../../core/protocol/reveal-body.ts';
import type { SubmissionPrecommitRequest, Verdict } from '../../core/protocol/wire.ts';
import {
  HOTKEY, MANIFEST, OPEN_STATE, PROFILE, WINDOW, bytes, callsOf, countingStream, fakeService, jsonOfSize, precommitFor,
  type FakeOptions,
} from './transport-http-fake.ts';

const HEADER = PROFILE.wire.precommitHeader;
const PRECOMMIT_CAP = PROFILE.wire.maxPrecommitBodyBytes; // 16 KiB
/** The `/submit` read cap: derived from the profile (DEVNET: ~284 KiB; flat profiles: 64 MiB). */
const PAYLOAD_CAP = maxRevealBytes(PROFILE);
const T0 = 1_700_000_000;

function setup(opts: FakeOptions = {}, server: Parameters<typeof httpServer>[1] = {}) {
  const service = fakeService(opts);
  const app = httpServer(service, { profile: PROFILE, clock: () => T0, onError: () => {}, ...server });
  return { service, app };
}

const post = (body: BodyInit, headers: Record<string, string> = {}): RequestInit => ({
  method: 'POST',
  body,
  headers: { 'content-type': 'application/json', ...headers },
  ...(body instanceof ReadableStream ? { duplex: 'half' } : {}),
});

async function precommit(app: ReturnType<typeof setup>['app'], req: unknown, headers: Record<string, string> = {}) {
  const res = await app.request('/submit/precommit', post(typeof req === 'string' ? req : JSON.stringify(req), headers));
  return { res, body: (await res.json()) as Record<string, unknown> };
}

describe('GET /state', () => {
  it('200 with the window state, for the default and a named environment', async () => {
    const { app, service } = setup();
    for (const path of ['/state', '/state?env=arith']) {
      const res = await app.request(path);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual(OPEN_STATE);
    }
    expect(callsOf(service, 'state')).toEqual([[undefined], ['arith']]);
  });

  it('404 unknown_env for an environment the window does not run', async () => {
    const res = await setup().app.request('/state?env=opencodeinstruct');
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ detail: 'unknown_env' });
  });

  it('503 no_active_window while no window is installed', async () => {
    const res = await setup({ closed: true }).app.request('/state');
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ detail: 'no_active_window' });
  });
});

describe('POST /submit/precommit', () => {
  const body = bytes('{"payload":1}');

  it('200 with a receipt; the service gets the typed request and the arrival time', async () => {
    const { app, service } = setup();
    const { res, body: out } = await precommit(app, precommitFor(body));
    expect(res.status).toBe(200);
    expect(out).toEqual({ accepted: true, reason: 'accepted', receipt_id: 'receipt-1', upload_deadline_ts: T0 + PROFILE.window.uploadGraceSeconds });
    expect(callsOf(service, 'precommit')).toEqual([[precommitFor(body), T0]]);
  });

  it('fills schema defaults before the service sees the request', async () => {
    const { app, service } = setup();
    const { protocol_version: _p, generation_profile_id: _g, ...minimal } = precommitFor(body);
    await precommit(app, minimal);
    const [req] = callsOf(service, 'precommit')[0] as [SubmissionPrecommitRequest];
    expect(req.protocol_version).toBe(0);
    expect(req.generation_profile_id).toBe('');
  });

  it('is an idempotent passthrough: the same signature twice reaches the service twice and gets one receipt', async () => {
    const { app, service } = setup();
    const a = await precommit(app, precommitFor(body));
    const b = await precommit(app, precommitFor(body));
    expect(b.body).toEqual(a.body);
    expect(callsOf(service, 'precommit')).toHaveLength(2);
    expect(service.receipts.size).toBe(1);
  });

  it('relays a refusal as 200 accepted=false with the message in the detail header', async () => {
    const { res, body: out } = await precommit(setup().app, precommitFor(body, { window_start: WINDOW + 1 }));
    expect(res.status).toBe(200);
    expect(out).toEqual({ accepted: false, reason: 'window_mismatch' });
    expect(decodeDetail(res.headers.get(DETAIL_HEADER))).toMatch(/window_n from GET \/state/);
  });

  it('closes the connection on a bad precommit signature (protocol §6)', async () => {
    const { res, body: out } = await precommit(setup().app, precommitFor(body, { precommit_signature: 'ee'.repeat(64) }));
    expect(out.reason).toBe('bad_envelope_signature');
    expect(res.headers.get('connection')).toBe('close');
  });

  it('malformed JSON → BAD_SCHEMA naming the position; the service is not called', async () => {
    const { app, service } = setup();
    const { res, body: out } = await precommit(app, '{"miner_hotkey": "x",');
    expect(res.status).toBe(200);
    expect(out).toEqual({ accepted: false, reason: 'bad_schema' });
    expect(decodeDetail(res.headers.get(DETAIL_HEADER))).toMatch(/invalid JSON at position/);
    expect(service.calls).toEqual([]);
  });

  it('unknown keys → BAD_SCHEMA naming the field', async () => {
    const { app, service } = setup();
    const { res, body: out } = await precommit(app, { ...precommitFor(body), randomness: 'ff' });
    expect(out).toEqual({ accepted: false, reason: 'bad_schema' });
    expect(decodeDetail(res.headers.get(DETAIL_HEADER))).toMatch(/^randomness: unknown field "randomness"/);
    expect(service.calls).toEqual([]);
  });

  it('payload_bytes over the 64 MiB payload cap → BAD_SCHEMA (schema), status 200', async () => {
    const { res, body: out } = await precommit(setup().app, precommitFor(body, { payload_bytes: PROFILE.wire.maxPayloadBytes + 1 }));
    expect([res.status, out.reason]).toEqual([200, 'bad_schema']);
  });

  it('a body of exactly the cap (16 KiB) is read and parsed; cap+1 is 413 BAD_SCHEMA unparsed', async () => {
    const { app, service } = setup();
    const exact = await app.request('/submit/precommit', post(jsonOfSize(precommitFor(body), PRECOMMIT_CAP)));
    expect(exact.status).toBe(200);
    expect(await exact.json()).toMatchObject({ accepted: true, reason: 'accepted' });
    const over = await app.request('/submit/precommit', post(jsonOfSize(precommitFor(body), PRECOMMIT_CAP + 1)));
    expect(over.status).toBe(413);
    expect(await over.json()).toEqual({ accepted: false, reason: 'bad_schema' });
    expect(callsOf(service, 'precommit')).toHaveLength(1);
  });

  it('an endless body is cut just past the cap (never more than one chunk beyond it)', async () => {
    const { stream, counter } = countingStream(Infinity, 1000);
    const res = await setup().app.request('/submit/precommit', post(stream));
    expect(res.status).toBe(413);
    expect(counter.pulled).toBeGreaterThan(PRECOMMIT_CAP);
    expect(counter.pulled).toBeLessThanOrEqual(PRECOMMIT_CAP + 1000);
  });

  it('a declared Content-Length over the cap is refused without reading the body', async () => {
    const { stream, counter } = countingStream(PRECOMMIT_CAP + 1);
    const res = await setup().app.request('/submit/precommit', post(stream, { 'content-length': String(PRECOMMIT_CAP + 1) }));
    expect(res.status).toBe(413);
    expect(counter.pulled).toBe(0);
  });

  it('a Content-Length that differs from the body → BAD_SCHEMA; a malformed one → 400 BAD_SCHEMA', async () => {
    const { app, service } = setup();
    const json = JSON.stringify(precommitFor(body));
    const wrong = await precommit(app, json, { 'content-length': String(json.length - 10) });
    expect([wrong.res.status, wrong.body.reason]).toEqual([200, 'bad_schema']);
    expect(decodeDetail(wrong.res.headers.get(DETAIL_HEADER))).toMatch(/Content-Length says/);
    const malformed = await precommit(app, json, { 'content-length': '12abc' });
    expect([malformed.res.status, malformed.body.reason]).toEqual([400, 'bad_schema']);
    expect(service.calls).toEqual([]);
  });
});

describe('POST /submit', () => {
  const payload = bytes(JSON.stringify({ window_start: WINDOW, rollouts: [] }));

  async function withReceipt(opts: FakeOptions = {}, server: Parameters<typeof httpServer>[1] = {}, body = payload) {
    const s = setup(opts, server);
    const { body: out } = await precommit(s.app, precommitFor(body));
    return { ...s, receipt: out.receipt_id as string };
  }
  const reveal = (receipt: string, body: BodyInit, headers: Record<string, string> = {}) => post(body, { [HEADER]: receipt, ...headers });

  it('200 submitted; the service gets the exact bytes, the declared length and both timestamps', async () => {
    let now = T0;
    const { app, service, receipt } = await withReceipt({}, { clock: () => now });
    // the body arrives 2 s after the headers: arrival is stamped before it is read, completion after
    const chunks = [payload.slice(0, 5), payload.slice(5)];
    const slow = new ReadableStream<Uint8Array>({
      pull(ctl) {
        const c = chunks.shift();
        if (!c) return ctl.close();
        now += 1;
        ctl.enqueue(c);
      },
    }, { highWaterMark: 0 });
    const res = await app.request('/submit', reveal(receipt, slow, { 'content-length': String(payload.length) }));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ accepted: true, reason: 'submitted' });
    const [upload] = callsOf(service, 'submit')[0] as [RevealUpload];
    expect(upload).toMatchObject({ receiptId: receipt, contentLength: payload.length, arrivalTs: T0, completedTs: T0 + 2 });
    expect(Buffer.from(upload.body).equals(Buffer.from(payload))).toBe(true);
  });

  it('no receipt header → PRECOMMIT_REQUIRED without reading the body', async () => {
    const { app, service } = setup();
    const { stream, counter } = countingStream(1 << 20);
    const res = await app.request('/submit', post(stream));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ accepted: false, reason: 'precommit_required' });
    expect(decodeDetail(res.headers.get(DETAIL_HEADER))).toContain(HEADER);
    expect(counter.pulled).toBe(0);
    expect(service.calls).toEqual([]);
  });

  it('relays the service: unknown receipt, wrong bytes, a replay gets the stored outcome', async () => {
    const { app, receipt } = await withReceipt();
    const unknown = await app.request('/submit', reveal('nope', payload));
    expect(await unknown.json()).toEqual({ accepted: false, reason: 'precommit_invalid' });
    const tampered = payload.slice();
    tampered[0] = 0x20;
    const bad = await app.request('/submit', reveal(receipt, tampered, { 'content-length': String(tampered.length) }));
    expect(await bad.json()).toEqual({ accepted: false, reason: 'precommit_invalid' });
    const again = await app.request('/submit', reveal(receipt, payload, { 'content-length': String(payload.length) }));
    expect(await again.json()).toEqual({ accepted: false, reason: 'precommit_invalid' }); // stored outcome
  });

  it('a wrong Content-Length is passed on as declared (the service answers PRECOMMIT_INVALID)', async () => {
    const { app, service, receipt } = await withReceipt();
    const res = await app.request('/submit', reveal(receipt, payload, { 'content-length': String(payload.length + 1) }));
    expect(await res.json()).toEqual({ accepted: false, reason: 'precommit_invalid' });
    const [upload] = callsOf(service, 'submit')[0] as [RevealUpload];
    expect([upload.contentLength, upload.body.length]).toEqual([payload.length + 1, payload.length]);
  });

  it('the body cap (maxRevealBytes): exactly the cap is read and handed over, cap+1 is 413 BAD_SCHEMA', async () => {
    const big = new Uint8Array(PAYLOAD_CAP).fill(0x20);
    const { app, service, receipt } = await withReceipt({}, {}, big);
    const exact = await app.request('/submit', reveal(receipt, big, { 'content-length': String(PAYLOAD_CAP) }));
    expect([exact.status, await exact.json()]).toEqual([200, { accepted: true, reason: 'submitted' }]);
    expect((callsOf(service, 'submit')[0] as [RevealUpload])[0].body.byteLength).toBe(PAYLOAD_CAP);
    const { stream, counter } = countingStream(PAYLOAD_CAP + 1, 1 << 20);
    const over = await app.request('/submit', reveal(receipt, stream));
    expect([over.status, await over.json()]).toEqual([413, { accepted: false, reason: 'bad_schema' }]);
    expect(counter.pulled).toBe(PAYLOAD_CAP + 1);
    expect(callsOf(service, 'submit')).toHaveLength(1);
  });

  it('a smaller configured cap applies at cap and cap+1, and a declared length over it is refused unread', async () => {
    const { app, receipt } = await withReceipt({}, { maxPayloadBytes: payload.length });
    const exact = await app.request('/submit', reveal(receipt, payload, { 'content-length': String(payload.length) }));
    expect(exact.status).toBe(200);
    const over = await app.request('/submit', reveal(receipt, jsonOfSize({}, payload.length + 1)));
    expect(over.status).toBe(413);
    const { stream, counter } = countingStream(payload.length + 1);
    const declared = await app.request('/submit', reveal(receipt, stream, { 'content-length': String(payload.length + 1) }));
    expect([declared.status, counter.pulled]).toEqual([413, 0]);
  });

  it('legacy direct submit: a window mismatch is HTTP 409, a match is submitted', async () => {
    const { app, service } = setup({ legacy: true });
    const mismatch = await app.request('/submit', post(JSON.stringify({ window_start: WINDOW - 1 })));
    expect([mismatch.status, await mismatch.json()]).toEqual([409, { accepted: false, reason: 'window_mismatch' }]);
    const ok = await app.request('/submit', post(JSON.stringify({ window_start: WINDOW })));
    expect([ok.status, await ok.json()]).toEqual([200, { accepted: true, reason: 'submitted' }]);
    expect(callsOf(service, 'submitDirect')).toHaveLength(2);
  });

  it('the 409 is only for the direct route: a reveal refused for window_mismatch stays 200', async () => {
    const service = fakeService();
    service.submit = () => ({ ok: false, rejection: { reason: 'window_mismatch', message: 'x' } });
    const res = await httpServer(service, { profile: PROFILE }).request('/submit', post('{}', { [HEADER]: 'r' }));
    expect(res.status).toBe(200);
  });
});

describe('GET /verdicts/:hotkey', () => {
  // Cast: wire.ts's inferred `Verdict` type lacks the optional keys declared through `fields()` (sigma, rewarded, …).
  const v = (ts: number, extra: Record<string, unknown> = {}): Verdict => ({ merkle_root: 'ab'.repeat(32), accepted: true, reason: 'submitted', ts, ...extra }) as Verdict;
  const RING: Verdict[] = [v(30, { sigma: null, window_n: WINDOW }), v(10), v(20, { reject_stage: null, rewarded: false }), v(5)];

  it('ascending, strictly ts > since, nulls dropped; since defaults to 0', async () => {
    const { app, service } = setup({ verdicts: RING });
    const all = await app.request(`/verdicts/${HOTKEY}`);
    expect(all.status).toBe(200);
    expect(((await all.json()) as { verdicts: Verdict[] }).verdicts).toEqual([v(5), v(10), v(20, { rewarded: false }), v(30, { window_n: WINDOW })]);
    const since = await app.request(`/verdicts/${HOTKEY}?since=10`);
    expect(((await since.json()) as { verdicts: Verdict[] }).verdicts.map((x) => x.ts)).toEqual([20, 30]);
    expect(callsOf(service, 'verdicts')).toEqual([[HOTKEY, 0], [HOTKEY, 10]]);
  });

  it('keeps the newest `verdictRing`, and an unknown hotkey has none', async () => {
    const { app } = setup({ verdicts: RING }, { verdictRing: 2 });
    expect(((await (await app.request(`/verdicts/${HOTKEY}?since=0`)).json()) as { verdicts: Verdict[] }).verdicts.map((x) => x.ts)).toEqual([20, 30]);
    expect(await (await app.request('/verdicts/5Other')).json()).toEqual({ verdicts: [] });
  });

  it('400 for a since that is not a number', async () => {
    const res = await setup().app.request(`/verdicts/${HOTKEY}?since=yesterday`);
    expect(res.status).toBe(400);
  });
});

describe('GET /checkpoint, /health, and the rest', () => {
  it('/checkpoint: 200 manifest, 404 no_checkpoint before the first publish', async () => {
    const ok = await setup().app.request('/checkpoint');
    expect([ok.status, await ok.json()]).toEqual([200, MANIFEST]);
    const none = await setup({ manifest: null }).app.request('/checkpoint');
    expect([none.status, await none.json()]).toEqual([404, { detail: 'no_checkpoint' }]);
  });

  it('/health: 200 with the status', async () => {
    const res = await setup().app.request('/health');
    expect([res.status, await res.json()]).toEqual([200, { status: 'ok', window_n: WINDOW, queue_depth: 0 }]);
  });

  it('exactly the §8 routes: anything else is a JSON 404', async () => {
    const { app } = setup();
    for (const [method, path] of [['GET', '/runtime-contract'], ['GET', '/submit'], ['POST', '/state'], ['DELETE', '/health']] as const) {
      const res = await app.request(path, { method });
      expect([method, path, res.status]).toEqual([method, path, 404]);
      expect(await res.json()).toEqual({ detail: 'not_found' });
    }
  });

  it('a service fault is a 500 that reveals nothing, reported to onError', async () => {
    const onError = vi.fn();
    const { app } = setup({ broken: true }, { onError });
    const res = await app.request('/state');
    expect([res.status, await res.json()]).toEqual([500, { detail: 'internal_error' }]);
    expect(onError).toHaveBeenCalledWith(expect.any(Error), 'GET /state');
  });

  it('refuses nonsensical options at construction', () => {
    expect(() => httpServer(fakeService(), { maxPayloadBytes: -1 })).toThrow(/maxPayloadBytes/);
  });
});
