/**
 * Every forgery of issue 11 against the validator's path on the shipped tiny model, wasm producer + wasm verifier,
 * a few groups each (bench/proof/attacks.ts builds them the way a cheater would; `judge` is admission's prompt
 * binding and reward recomputation, then core/validator/prover.ts `proveGroup` with the validator's randomness,
 * announced checkpoint, signing hotkey and seal randomness).
 *
 * What must hold:
 *   - the honest control is accepted, every group;
 *   - no attack gets a group accepted whose tokens differ from the honest replay (accepted_differing = 0);
 *   - attacks whose tokens always differ from the replay (edited tokens, a corrected answer, a far model, another
 *     prompt) and the forged sketches are never accepted, and a forged sketch passes ≤ 10⁻³ of positions.
 * These hold under proof v2 (DEVNET, since commit 9d069d3: every token replayed, hotkey-bound stream, v8 sketch);
 * under the v4 gates several rows are accepted with different tokens — the point of issue 11 — and the last test
 * checks that the harness counts them (so accepted_differing = 0 above is not vacuous).
 * Attacks that may reproduce the honest tokens (a model 1e-3 off, the previous checkpoint, old tokens, a copied
 * group on a prompt the model is sure of) may be accepted: then they are the honest group, and only
 * accepted_differing is asserted.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ComputeBackend } from '../../core/compute/backend.ts';
import { DEVNET } from '../../core/profile/index.ts';
import { Reason } from '../../core/protocol/reasons.ts';
import { createNodeWasmBackend } from '../../kernels/wasm/node.ts';
import { AttackLab, ATTACKS, runAttack } from '../../bench/proof/attacks.ts';
import { benchProfile, loadTiny } from '../../bench/proof/setup.ts';
import { V4 } from '../../core/profile/index.ts';

const N = 5;
/** Rows whose accepted groups would necessarily differ from the honest replay, or whose sketch is forged. */
const NEVER_ACCEPTED = new Set([
  'constant-sketch', 'random-sketch', 'copied-sketch', 'wrong-model-1e-1', 'reseeded-model', 'edit-middle', 'edit-final', 'answer-correction', 'prompt-mismatch',
]);

let be: ComputeBackend;
let lab: AttackLab;

beforeAll(async () => {
  be = await createNodeWasmBackend();
  lab = AttackLab.open({ profile: DEVNET, producer: be, verifier: be, tiny: await loadTiny() });
});
afterAll(() => {
  lab?.close();
  be?.destroy();
});

describe('proof v2 against the forgeries of issue 11 (wasm → wasm)', () => {
  it('accepts the honest control', async () => {
    const row = await runAttack(lab, ATTACKS[0]!, N);
    expect(row.attack).toBe('honest');
    expect(row).toMatchObject({ groups: N, accepted: N, accepted_differing: 0 });
  });

  for (const attack of ATTACKS.slice(1)) {
    it(`${attack.name}: nothing accepted that differs from the honest replay`, async () => {
      const row = await runAttack(lab, attack, N);
      expect(row.groups).toBe(N);
      expect(row.accepted_differing, JSON.stringify(row.reasons)).toBe(0);
      if (NEVER_ACCEPTED.has(attack.name)) expect(row.accepted, JSON.stringify(row.reasons)).toBe(0);
      if (attack.name === 'prompt-mismatch') expect(row.reasons).toEqual({ [Reason.PROMPT_MISMATCH]: N });
      if (row.positions) {
        expect(row.positions.tried).toBeGreaterThan(100);
        expect(row.positions.rate).toBeLessThanOrEqual(1e-3);
      }
    });
  }
});

describe('the harness sees what proof v2 stops', () => {
  it('under the v4 gates an edited final answer is accepted with tokens that differ from the honest replay', async () => {
    const v4 = AttackLab.open({ profile: benchProfile(V4.id).profile, producer: be, verifier: be, tiny: await loadTiny() });
    try {
      const row = await runAttack(v4, ATTACKS.find((a) => a.name === 'edit-final')!, N);
      expect(row.accepted_differing).toBeGreaterThan(0);
      expect(row.accepted_differing).toBeLessThanOrEqual(row.accepted);
    } finally {
      v4.close();
    }
  });
});
