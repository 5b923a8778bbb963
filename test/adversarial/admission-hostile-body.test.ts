/**
 * Hostile reveal bodies (issue 11): a registered hotkey reveals 64 MiB of nested arrays. On the devnet the
 * precommit is refused at gate A (the derived cap); under a flat 64 MiB cap (v4's knob) the body is read, and the
 * bounded parse in the Node worker pool (hosts/node/reveal-parser-pool.ts) refuses it with BAD_SCHEMA while
 * `/health` keeps answering. The pool's time budget and crash handling are checked directly.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { DEVNET, type Profile } from '../../core/profile/index.ts';
import { hex, utf8 } from '../../core/protocol/codec.ts';
import { sha256 } from '../../core/protocol/hash.ts';
import { Reason } from '../../core/protocol/reasons.ts';
import { parseRevealBody } from '../../core/protocol/reveal-body.ts';
import { revealParserPool, type RevealParserPool } from '../../hosts/node/reveal-parser-pool.ts';
import { httpServer } from '../../plugins/transport-http/index.ts';
import { listen, type Listening } from '../../plugins/transport-http/listen-node.ts';
import { ALICE, BOB, ENV, IN_ZONE, T0, makeValidator, mined, openWindow, precommitForBody, roundAt, signPrecommit, toyEnv } from '../market/market-fixture.ts';
import { pollHealth, upload } from './admission-loopback.ts';

const MiB = 1024 * 1024;
const FLAT: Profile = { ...DEVNET, admission: { ...DEVNET.admission, revealCap: 'flat' } };

/** `n` bytes of `[[[[…]]]]`: n/2 opening brackets, then n/2 closing ones. */
function nestedArrays(n: number): Uint8Array {
  const b = new Uint8Array(n);
  b.fill(0x5b, 0, n / 2);
  b.fill(0x5d, n / 2);
  return b;
}

let pool: RevealParserPool | null = null;
let server: Listening | null = null;
afterEach(async () => {
  await server?.close();
  await pool?.close();
  server = null;
  pool = null;
});

describe('the reveal parser pool', () => {
  it('parses an honest body like the in-process parser, refuses deep nesting, and survives a budget overrun', async () => {
    pool = revealParserPool({ profile: FLAT, workers: 1, timeBudgetMs: 2000 });
    const honest = utf8(mined(IN_ZONE[0], ALICE).body);
    const a = await pool.parse(honest);
    const b = parseRevealBody(honest, FLAT);
    expect(a.ok && b.ok).toBe(true);
    if (a.ok && b.ok) expect(a.value).toEqual(b.value);
    const deep = await pool.parse(nestedArrays(1 * MiB));
    expect(deep).toMatchObject({ ok: false, rejection: { reason: Reason.BAD_SCHEMA } });
    if (!deep.ok) expect(deep.rejection.message).toMatch(/nested deeper than 6 levels at byte 6/);
    await pool.close();

    // A 1 ms budget cannot parse 24 MiB of JSON: the worker is stopped and replaced, the body refused.
    pool = revealParserPool({ profile: FLAT, workers: 1, timeBudgetMs: 1 });
    const slow = utf8(`{"a":"${'x'.repeat(24 * MiB)}"}`);
    const r = await pool.parse(slow);
    expect(r).toMatchObject({ ok: false, rejection: { reason: Reason.BAD_SCHEMA } });
    if (!r.ok) expect(r.rejection.message).toMatch(/parsing took longer than 1 ms/);
    expect(pool.replaced).toBe(1);
    await pool.close();
    pool = revealParserPool({ profile: FLAT, workers: 1 });
    expect((await pool.parse(honest)).ok).toBe(true);
  });

  it('refuses a body over the reveal cap without sending it to a worker', async () => {
    pool = revealParserPool({ profile: DEVNET, workers: 1 });
    const r = await pool.parse(new Uint8Array(300_000).fill(0x20));
    expect(r).toMatchObject({ ok: false, rejection: { reason: Reason.BAD_SCHEMA } });
    if (!r.ok) expect(r.rejection.message).toMatch(/body is 300000 bytes, expected at most 290816/);
  });
});

describe('a 64 MiB nested-array reveal from a registered hotkey', () => {
  it('devnet: the precommit itself is refused at gate A (BAD_SCHEMA), nothing is reserved', () => {
    const body = nestedArrays(64 * MiB);
    const v = openWindow(makeValidator());
    const r = v.precommit(signPrecommit(ALICE, { payload_bytes: body.length, payload_sha256: hex(sha256(body)) }), T0 + 1);
    expect(r).toMatchObject({ ok: false, rejection: { reason: Reason.BAD_SCHEMA, path: 'payload_bytes' } });
  });

  it('flat 64 MiB cap: read, refused by the worker with BAD_SCHEMA, while /health and an honest miner are answered', { timeout: 60_000 }, async () => {
    const body = nestedArrays(64 * MiB);
    const sha = hex(sha256(body));
    const honestBody = mined(IN_ZONE[1], ALICE).body;
    pool = revealParserPool({ profile: FLAT, workers: 1 });
    const v = openWindow(makeValidator({ profile: FLAT, envs: { [ENV]: toyEnv() }, clock: () => T0 + 1, parseReveal: pool.parse, byteBudgetPerEnv: 1024 * MiB }));
    server = await listen(httpServer(v, { profile: FLAT, clock: () => T0 + 1 }), { port: 0 });
    const url = server.url;
    const header = FLAT.wire.precommitHeader;
    const pre = v.precommit(signPrecommit(BOB, { payload_bytes: body.length, payload_sha256: sha, drand_round: roundAt(T0 + 1) }, FLAT), T0 + 1);
    expect(pre.ok).toBe(true);
    if (!pre.ok) return;

    const attack = upload(`${url}/submit`, { [header]: pre.receipt.receiptId }, body.length, (at, n) => body.subarray(at, at + n)).then(async (o) => {
      await v.idle();
      return o;
    });
    const honest = (async () => {
      const p = (await (await fetch(`${url}/submit/precommit`, { method: 'POST', body: JSON.stringify(precommitForBody(ALICE, honestBody)) })).json()) as { receipt_id: string };
      return (await fetch(`${url}/submit`, { method: 'POST', headers: { [header]: p.receipt_id }, body: honestBody })).json();
    })();
    const health = pollHealth(url, Promise.all([attack, honest]));

    const a = await attack;
    expect(a.json).toEqual({ accepted: true, reason: Reason.SUBMITTED }); // gate B passed: it was committed
    expect(await honest).toEqual({ accepted: true, reason: Reason.SUBMITTED });
    await v.idle();
    const verdict = v.verdicts(BOB.ss58, 0).at(-1);
    expect(verdict).toMatchObject({ reason: Reason.BAD_SCHEMA, reject_stage: 'admission' });
    expect(verdict?.reject_reason).toMatch(/nested deeper than 6 levels/);
    expect(v.verdicts(ALICE.ss58, 0).map((x) => x.reason)).toEqual([Reason.SUBMITTED, Reason.ACCEPTED]);
    const h = await health;
    expect(h.statuses.every((s) => s === 200)).toBe(true);
    // Typically 100–250 ms on a 2-core box (the body's sha256 in gate B is the remaining main-thread work);
    // before the bounded worker parse this attack blocked the event loop for 31.5 s.
    expect(Math.max(...h.latencies)).toBeLessThan(1500);
    console.log(`64 MiB nested body: /health ${h.latencies.length} polls, max ${Math.max(...h.latencies).toFixed(0)} ms, RSS ${(process.memoryUsage().rss / MiB).toFixed(0)} MiB`);
  });
});
