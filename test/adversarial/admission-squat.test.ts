/**
 * Squatting admission (issue 11): receipts and byte reservations hoarded by one hotkey, or by four hotkeys of one
 * coldkey, must leave a receipt for every registered miner not yet served; receipts never revealed are released
 * at their upload deadline. Each attack runs twice: with the devnet's hardening knobs (`admission.fairShare`,
 * `admission.releaseUnrevealed`) and with them off (v4 upstream behaviour), to show what the knob changes.
 */
import { describe, expect, it } from 'vitest';
import type { RegistrySnapshot } from '../../core/interfaces/chain.ts';
import { DEVNET, type Profile } from '../../core/profile/index.ts';
import { Reason } from '../../core/protocol/reasons.ts';
import { maxRevealBytes } from '../../core/protocol/reveal-body.ts';
import type { Signer } from '../../core/protocol/sr25519.ts';
import { ALICE, CAROL, ENV, T0, makeValidator, openWindow, roundAt, signPrecommit, signer, toyEnv } from '../market/market-fixture.ts';

const EVIL = [0, 1, 2, 3].map((i) => signer(`evil ${i}`));
const { receiptsPerEnv, precommitsPerHotkey } = DEVNET.quotas;

/** Alice and Carol (one coldkey each) and four attacker hotkeys under one coldkey. */
function squatRegistry(): RegistrySnapshot {
  return {
    takenAt: T0,
    neurons: [
      { uid: 1, hotkey: ALICE.ss58, coldkey: 'cold-alice' },
      { uid: 2, hotkey: CAROL.ss58, coldkey: 'cold-carol' },
      ...EVIL.map((e, i) => ({ uid: 10 + i, hotkey: e.ss58, coldkey: 'cold-evil' })),
    ],
  };
}

const knobs = (fairShare: boolean, releaseUnrevealed: boolean, over: Partial<Profile['admission']> = {}): Profile => ({
  ...DEVNET,
  admission: { ...DEVNET.admission, fairShare, releaseUnrevealed, ...over },
});

function validator(profile: Profile, byteBudgetPerEnv?: number) {
  return openWindow(makeValidator({ profile, envs: { [ENV]: toyEnv() }, ...(byteBudgetPerEnv ? { byteBudgetPerEnv } : {}) }), squatRegistry());
}

/** `n` precommits by `by` at time `t` (distinct nonces); the receipts granted. */
function flood(v: ReturnType<typeof validator>, profile: Profile, by: Signer, n: number, t: number, over: { payload_bytes?: number } = {}): string[] {
  const got: string[] = [];
  for (let i = 0; i < n; i++) {
    const r = v.precommit(signPrecommit(by, { nonce: `squat-${t}-${i}`, drand_round: roundAt(t), ...over }, profile), t);
    if (r.ok) got.push(r.receipt.receiptId);
  }
  return got;
}

const reasonOf = (r: ReturnType<ReturnType<typeof validator>['precommit']>): string => (r.ok ? 'receipt' : r.rejection.reason);

describe('squatting by four hotkeys of one coldkey (4 × 8 precommits, devnet caps 32 per env, 8 per hotkey)', () => {
  it('with fair share, the attacker coldkey stops at its share and every honest miner still gets a receipt', () => {
    const p = knobs(true, true);
    const v = validator(p);
    const squatted = EVIL.flatMap((e) => flood(v, p, e, precommitsPerHotkey, T0 + 1));
    // Three registered operators: the attacker may hold at most ceil(32 / 3) = 11 receipts while the others hold none.
    expect(squatted.length).toBe(Math.ceil(receiptsPerEnv / 3));
    const refused = v.precommit(signPrecommit(EVIL[3]!, { nonce: 'one-more', drand_round: roundAt(T0 + 1) }, p), T0 + 1);
    expect(refused).toMatchObject({ ok: false, rejection: { reason: Reason.RATE_LIMITED } });
    if (!refused.ok) expect(refused.rejection.message).toMatch(/fair share .* registered operators hold none/);
    expect(reasonOf(v.precommit(signPrecommit(ALICE, { nonce: 'a0', drand_round: roundAt(T0 + 1) }, p), T0 + 1))).toBe('receipt');
    expect(reasonOf(v.precommit(signPrecommit(CAROL, { nonce: 'c0', drand_round: roundAt(T0 + 1) }, p), T0 + 1))).toBe('receipt');
    // Once everyone is served the shares grow back: Alice takes more receipts, up to her own hotkey quota.
    expect(flood(v, p, ALICE, precommitsPerHotkey - 1, T0 + 1).length).toBe(precommitsPerHotkey - 1);
  });

  it('without it (v4 upstream), the attacker fills the env and the honest miner gets BATCH_FILLED', () => {
    const p = knobs(false, false);
    const v = validator(p);
    const squatted = EVIL.flatMap((e) => flood(v, p, e, precommitsPerHotkey, T0 + 1));
    expect(squatted.length).toBe(receiptsPerEnv);
    expect(reasonOf(v.precommit(signPrecommit(ALICE, { nonce: 'a0', drand_round: roundAt(T0 + 1) }, p), T0 + 1))).toBe(Reason.BATCH_FILLED);
  });
});

describe('squatting by one hotkey', () => {
  it('receipts: one hotkey holds at most its share; both honest operators are served', () => {
    const p = knobs(true, true, { revealCap: 'flat' });
    const v = openWindow(makeValidator({ profile: { ...p, quotas: { ...p.quotas, precommitsPerHotkey: 32 } }, envs: { [ENV]: toyEnv() } }), squatRegistry());
    const pp = { ...p, quotas: { ...p.quotas, precommitsPerHotkey: 32 } };
    const squatted = flood(v, pp, EVIL[0]!, 32, T0 + 1);
    expect(squatted.length).toBe(Math.ceil(receiptsPerEnv / 3));
    expect(reasonOf(v.precommit(signPrecommit(ALICE, { nonce: 'a0', drand_round: roundAt(T0 + 1) }, pp), T0 + 1))).toBe('receipt');
    expect(reasonOf(v.precommit(signPrecommit(CAROL, { nonce: 'c0', drand_round: roundAt(T0 + 1) }, pp), T0 + 1))).toBe('receipt');
  });

  it('bytes: 16 × 64 MiB (flat cap, 1 GiB budget) leaves bytes for the honest miners; without fair share it locks them out', () => {
    const MiB = 1024 * 1024;
    const budget = 1024 * MiB;
    for (const fairShare of [true, false]) {
      const p = knobs(fairShare, true, { revealCap: 'flat' });
      const v = validator(p, budget);
      const big = { payload_bytes: 64 * MiB };
      const squatted = EVIL.slice(0, 2).flatMap((e) => flood(v, p, e, precommitsPerHotkey, T0 + 1, big));
      const alice = v.precommit(signPrecommit(ALICE, { nonce: 'a0', drand_round: roundAt(T0 + 1), ...big }, p), T0 + 1);
      const carol = v.precommit(signPrecommit(CAROL, { nonce: 'c0', drand_round: roundAt(T0 + 1), ...big }, p), T0 + 1);
      if (fairShare) {
        // share = ceil((free + held) / 3) = 1 GiB / 3 → 5 receipts of 64 MiB (the first is free of the share).
        expect(squatted.length).toBe(Math.floor(Math.ceil(budget / 3) / (64 * MiB)));
        expect([reasonOf(alice), reasonOf(carol)]).toEqual(['receipt', 'receipt']);
      } else {
        expect(squatted.length).toBe(16);
        expect([reasonOf(alice), reasonOf(carol)]).toEqual([Reason.BATCH_FILLED, Reason.BATCH_FILLED]);
      }
    }
  });
});

describe('unrevealed receipts are released at the upload deadline', () => {
  const G = DEVNET.window.uploadGraceSeconds;

  it('their quota, receipt count and bytes come back; a late reveal still answers PRECOMMIT_EXPIRED', () => {
    const p = knobs(false, true);
    const v = validator(p);
    const squatted = EVIL.flatMap((e) => flood(v, p, e, precommitsPerHotkey, T0 + 1));
    expect(squatted.length).toBe(receiptsPerEnv);
    const book = v.currentBook!;
    // Before the deadline nothing is released: the env is full.
    expect(reasonOf(v.precommit(signPrecommit(ALICE, { nonce: 'early', drand_round: roundAt(T0 + 1 + G) }, p), T0 + 1 + G))).toBe(Reason.BATCH_FILLED);
    const late = T0 + 1 + G + 0.5;
    expect(reasonOf(v.precommit(signPrecommit(ALICE, { nonce: 'late', drand_round: roundAt(late) }, p), late))).toBe('receipt');
    expect(book.released.size).toBe(receiptsPerEnv);
    expect(book.quota.get(EVIL[0]!.ss58) ?? 0).toBe(0);
    expect(book.receiptsPerEnv.get(ENV)).toBe(1);
    expect(book.bytesPerEnv.get(ENV)).toBe(signPrecommit(ALICE).payload_bytes);
    // The squatter may precommit again (its quota came back), and its released receipt is still known: EXPIRED.
    expect(flood(v, p, EVIL[0]!, 1, late).length).toBe(1);
    const released = book.receipts.get(squatted[0]!)!;
    const body = new Uint8Array(released.request.payload_bytes);
    const r = v.submit({ receiptId: released.id, body, contentLength: body.length, arrivalTs: late, completedTs: late });
    expect(r).toMatchObject({ ok: false, rejection: { reason: Reason.PRECOMMIT_EXPIRED } });
    expect(book.conservation(late).ok).toBe(true);
  });

  it('without the knob (v4 upstream) the receipts stay reserved for the rest of the window', () => {
    const p = knobs(false, false);
    const v = validator(p);
    EVIL.forEach((e) => flood(v, p, e, precommitsPerHotkey, T0 + 1));
    const late = T0 + 1 + G + 0.5;
    expect(reasonOf(v.precommit(signPrecommit(ALICE, { nonce: 'late', drand_round: roundAt(late) }, p), late))).toBe(Reason.BATCH_FILLED);
  });
});

describe('gate A refuses a payload_bytes above the derived reveal cap', () => {
  it('devnet: 64 MiB is BAD_SCHEMA before any reservation; the cap itself is accepted', () => {
    const v = validator(DEVNET);
    const cap = maxRevealBytes(DEVNET);
    expect(cap).toBe(290_816);
    const over = v.precommit(signPrecommit(ALICE, { nonce: 'big', payload_bytes: 64 * 1024 * 1024 }), T0 + 1);
    expect(over).toMatchObject({ ok: false, rejection: { reason: Reason.BAD_SCHEMA, path: 'payload_bytes' } });
    expect(v.currentBook!.quota.get(ALICE.ss58) ?? 0).toBe(0);
    expect(reasonOf(v.precommit(signPrecommit(ALICE, { nonce: 'exact', payload_bytes: cap }), T0 + 1))).toBe('receipt');
    expect(reasonOf(v.precommit(signPrecommit(ALICE, { nonce: 'one-over', payload_bytes: cap + 1 }), T0 + 1))).toBe(Reason.BAD_SCHEMA);
  });
});
