/**
 * A flood of unauthenticated large uploads (issue 11): 30 uploads of 60 MB each to `/submit` with an unknown
 * receipt, and 10 without the header, over a real loopback listener, while an honest miner precommits and
 * reveals. The receipt is checked before any body byte is read, so each flood upload is answered unread (the
 * socket accepts at most its buffers), the honest miner is served and `/health` answers throughout.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Reason } from '../../core/protocol/reasons.ts';
import { httpServer } from '../../plugins/transport-http/index.ts';
import { listen, type Listening } from '../../plugins/transport-http/listen-node.ts';
import { ALICE, IN_ZONE, PROFILE, T0, makeValidator, mined, openWindow, precommitForBody } from '../market/market-fixture.ts';
import { pollHealth, upload } from './admission-loopback.ts';

const MB = 1_000_000;
let server: Listening | null = null;
afterEach(async () => {
  await server?.close();
  server = null;
});

describe('a flood of unauthenticated 60 MB uploads', () => {
  it('is refused unread while an honest miner precommits and reveals and /health answers', { timeout: 60_000 }, async () => {
    const v = openWindow(makeValidator({ clock: () => T0 + 1 }));
    server = await listen(httpServer(v, { profile: PROFILE, clock: () => T0 + 1 }), { port: 0 });
    const url = server.url;
    const header = PROFILE.wire.precommitHeader;

    const body = mined(IN_ZONE[0], ALICE).body; // mined (CPU) before the clock starts: the client shares this thread
    const signed = JSON.stringify(precommitForBody(ALICE, body));
    const flood = [
      ...Array.from({ length: 30 }, (_, i) => upload(`${url}/submit`, { [header]: `${i}`.padStart(64, 'f') }, 60 * MB)),
      ...Array.from({ length: 10 }, () => upload(`${url}/submit`, {}, 60 * MB)),
    ];
    const honest = (async () => {
      const pre = await fetch(`${url}/submit/precommit`, { method: 'POST', body: signed });
      const p = (await pre.json()) as { accepted: boolean; receipt_id: string };
      const sub = await fetch(`${url}/submit`, { method: 'POST', headers: { [header]: p.receipt_id }, body });
      return { precommit: p, submit: await sub.json() };
    })();
    const health = pollHealth(url, Promise.all([...flood, honest]));

    const served = await honest;
    expect(served.precommit.accepted).toBe(true);
    expect(served.submit).toEqual({ accepted: true, reason: Reason.SUBMITTED });
    const outcomes = await Promise.all(flood);
    for (const o of outcomes.slice(0, 30)) {
      if (o.status !== null) expect(o.json).toEqual({ accepted: false, reason: Reason.PRECOMMIT_INVALID });
    }
    for (const o of outcomes.slice(30)) {
      if (o.status !== null) expect(o.json).toEqual({ accepted: false, reason: Reason.PRECOMMIT_REQUIRED });
    }
    expect(outcomes.filter((o) => o.status !== null).length).toBeGreaterThan(0);
    // Unread: no upload got anywhere near its 60 MB through (socket buffers only).
    const sent = outcomes.map((o) => o.sent);
    expect(Math.max(...sent)).toBeLessThan(16 * MB);
    const h = await health;
    expect(h.statuses.every((s) => s === 200)).toBe(true);
    expect(h.latencies.length).toBeGreaterThan(0);
    // No latency bound here: the 40 uploading clients share this thread with the server (measured: 0.6–1.8 s max).
    await v.idle();
    expect(v.verdicts(ALICE.ss58, 0).map((x) => x.reason)).toEqual([Reason.SUBMITTED, Reason.ACCEPTED]);
    console.log(`flood: ${outcomes.length} uploads, max sent ${(Math.max(...sent) / MB).toFixed(2)} MB, total ${(sent.reduce((a, b) => a + b, 0) / MB).toFixed(1)} MB; /health ${h.latencies.length} polls, max ${Math.max(...h.latencies).toFixed(0)} ms`);
  });
});
