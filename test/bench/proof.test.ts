/**
 * `reliquary bench proof --quick --json` on the shipped tiny model (wasm only): the report has the shape
 * (`{profile, attacks: [{attack, groups, accepted, accepted_differing, reasons}], honest: [{producer, verifier,
 * groups, rejected}], calibration, cost}`), every attack row is there with its groups tried, the sketch rows carry
 * positions tried / passed, the text form prints every section; a bad flag is exit 2. Also the guard of the
 * bench's re-commitment: `commitmentsFor` is what `generateRollouts` commits (so a cheater's re-commitment of
 * edited tokens is exactly an honest miner's, whatever the sketch version).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ComputeBackend } from '../../core/compute/backend.ts';
import { DEVNET } from '../../core/profile/index.ts';
import { createNodeWasmBackend } from '../../kernels/wasm/node.ts';
import { benchProofCommand, formatProof, type ProofReport } from '../../bench/proof.ts';
import { ATTACK_NAMES } from '../../bench/proof/attacks.ts';
import { benchWindow, CHEATER_HOTKEY, commitmentsFor, honestGroup, loadTiny, marketPrompt, modelOn } from '../../bench/proof/setup.ts';

describe('bench proof', () => {
  let be: ComputeBackend;
  beforeAll(async () => {
    be = await createNodeWasmBackend();
  });
  afterAll(() => be?.destroy());

  it('re-commits edited tokens exactly as generation commits', async () => {
    const tiny = await loadTiny();
    const model = modelOn(be, tiny.cfg, tiny.tensors);
    const w = benchWindow('guard', 0);
    const g = await honestGroup(model, marketPrompt(4), CHEATER_HOTKEY, w, DEVNET, { rollouts: 4 });
    for (const r of g.rollouts) expect(Array.from(await commitmentsFor(model, r.tokens, w.randomness, DEVNET))).toEqual(Array.from(r.commitments));
  });

  it('--quick --json prints the issue-11 report', async () => {
    let out = '';
    let err = '';
    expect(await benchProofCommand({ quick: true, json: true, out: (t) => (out += t), err: (t) => (err += t) })).toBe(0);
    const r = JSON.parse(out) as ProofReport;
    expect(r.profile).toBe(DEVNET.id);
    expect(r.attacks.map((a) => a.attack)).toEqual(ATTACK_NAMES);
    for (const a of r.attacks) {
      expect(Object.keys(a)).toEqual(expect.arrayContaining(['attack', 'groups', 'accepted', 'accepted_differing', 'reasons']));
      expect(a.groups, a.attack).toBe(6);
      expect(a.accepted + Object.values(a.reasons).reduce((x, y) => x + y, 0)).toBe(a.groups);
      expect(a.accepted_differing).toBeLessThanOrEqual(a.accepted);
    }
    for (const name of ['constant-sketch', 'random-sketch', 'copied-sketch']) {
      const p = r.attacks.find((a) => a.attack === name)!.positions!;
      expect(p.tried).toBeGreaterThan(0);
      expect(p.rate).toBe(p.passed / p.tried);
    }
    expect(r.honest).toEqual([{ producer: 'wasm', verifier: 'wasm', groups: 24, rejected: expect.any(Number), reasons: expect.any(Object) }]);
    for (const k of ['logprob', 'cdf', 'hidden', 'cdfBoundary'] as const) {
      expect(r.calibration[k].positions).toBeGreaterThan(0);
      expect(r.calibration[k].measured).toBeGreaterThanOrEqual(0);
    }
    expect(r.calibration.logprob.chosen).toBe(DEVNET.proof.logprobMaxAbs);
    expect(r.calibration.cdf.chosen).toBe(DEVNET.proof.cdfEpsilon);
    expect(r.calibration.hidden.chosen).toBe(DEVNET.proof.sketchAmbiguity);
    expect(r.calibration.epsilonAmbiguous.of).toBe(r.calibration.cdf.positions);
    expect(r.calibration.epsilonAmbiguous.share).toBe(r.calibration.epsilonAmbiguous.positions / r.calibration.epsilonAmbiguous.of);
    const c = r.cost['wasm']!;
    expect(c.groups_generated).toBe(24);
    expect(c.ratio).toBeCloseTo(c.verify_ms_per_group! / c.generate_ms_per_group!, 9);
    const text = formatProof(r).join('\n');
    for (const s of ['accepted_differing', 'positions passed/tried', 'wasm→wasm', 'logprobMaxAbs', 'verify/generate', 'prompt-mismatch']) expect(text).toContain(s);
    expect(err).toContain('honest: wasm→wasm');
  });

  it('refuses a bad flag', async () => {
    let err = '';
    expect(await benchProofCommand({ backends: 'cuda', out: () => {}, err: (t) => (err += t) })).toBe(2);
    expect(await benchProofCommand({ groups: '0', out: () => {}, err: (t) => (err += t) })).toBe(2);
    expect(err).toMatch(/^bench proof: unknown backend cuda/);
  });
});
