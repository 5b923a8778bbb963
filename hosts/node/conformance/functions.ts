/**
 * The conformance function table: each vector-file function name, how to read its `args`, which
 * implementation answers it, and how floats are compared. Names and argument keys are the published
 * vector format (issue 3); the implementations are the project's own (core/protocol, core/training,
 * core/market and the environment plugins).
 */
import { V4 } from '../../../core/profile/index.ts';
import { hex, hexdec } from '../../../core/protocol/codec.ts';
import { prf } from '../../../core/protocol/hash.ts';
import { indicesFromRoot, indicesFromRootInRange } from '../../../core/protocol/indices.ts';
import { bucket, rVec, sketchFromBuckets, sketchFromHidden } from '../../../core/protocol/sketch.ts';
import { pick, uAt } from '../../../core/protocol/sampling.ts';
import { commitBindingDigest, envelopeDigest, hashCommitments, precommitDigest } from '../../../core/protocol/bindings.ts';
import { drandRound, promptRangeBig, windowRandomness } from '../../../core/protocol/randomness.ts';
import { dedupHash, legacyMerkleRoot } from '../../../core/protocol/hashes.ts';
import { grpoAdvantages, overlongPenalty, surrogate } from '../../../core/training/grpo.ts';
import { gatedUtility } from '../../../core/market/zone.ts';
import { extractBoxed } from '../../../plugins/env-math/extract.ts';
import { mathReward } from '../../../plugins/env-math/grader.ts';
import { codeExtract } from '../../../plugins/env-code/extract.ts';
import { codeRewardSync } from '../sandbox/code-reward.ts';
import type { ArgReader } from './args.ts';
import { EXACT, type FloatRule } from './compare.ts';

export interface ConformanceFunction {
  run(a: ArgReader): unknown;
  floats: FloatRule;
}

/** GRPO scalars may come from float32 tensor maths upstream: allow float32-level relative error. */
const GRPO_TOLERANCE: FloatRule = { kind: 'tolerance', abs: 1e-9, rel: 1e-6 };

const asHex = (x: Uint8Array | string): string => (typeof x === 'string' ? x.toLowerCase() : hex(x));

/** A Python int as the vector parser represents one: a number when safe, else a bigint (printed exactly). */
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const pyInt = (x: bigint): number | bigint => (x >= -MAX_SAFE && x <= MAX_SAFE ? Number(x) : x);

function envelopeFields(a: ArgReader) {
  return {
    hotkey: a.str('hotkey'),
    windowStart: a.int('window_start'),
    promptIdx: a.int('prompt_idx'),
    merkleRoot: a.str('merkle_root'),
    checkpointHash: a.str('checkpoint_hash'),
    drandRound: a.int('drand_round'),
    randomness: a.str('randomness'),
    nonce: a.str('nonce'),
    protocolVersion: a.has('protocol_version') ? a.int('protocol_version') : 0,
    profileId: a.has('profile_id') ? a.str('profile_id') : '',
  };
}

export const CONFORMANCE_FUNCTIONS: Readonly<Record<string, ConformanceFunction>> = {
  prf: { floats: EXACT, run: (a) => hex(prf(a.str('label'), a.strs('parts').map(hexdec), a.int('n'))) },
  indices_from_root: {
    floats: EXACT,
    run: (a) => indicesFromRoot(a.ints('tokens'), a.str('randomness'), a.int('n'), a.int('k'), V4.grail),
  },
  indices_from_root_in_range: {
    floats: EXACT,
    run: (a) => indicesFromRootInRange(a.ints('tokens'), a.str('randomness'), a.int('a'), a.int('b'), a.int('k'), V4.grail),
  },
  r_vec: { floats: EXACT, run: (a) => Array.from(rVec(a.str('randomness'), V4.grail)) },
  bucket: { floats: EXACT, run: (a) => bucket(a.float('x'), V4.grail) },
  sketch: {
    floats: EXACT,
    run: (a) => sketchFromBuckets(a.ints('buckets'), rVec(a.str('randomness'), V4.grail), V4.grail),
  },
  sketch_from_hidden: {
    floats: EXACT,
    run: (a) => sketchFromHidden(a.floats('hidden'), rVec(a.str('randomness'), V4.grail), V4.grail),
  },
  u_at: {
    floats: EXACT,
    run: (a) =>
      uAt(a.str('randomness'), a.int('prompt_idx'), a.str('checkpoint_hash'), a.int('rollout_index'), a.int('t'), V4.forcedSeed),
  },
  pick: { floats: EXACT, run: (a) => pick(Float32Array.from(a.floats('probs')), a.float('u')) },
  commitments_hash: { floats: EXACT, run: (a) => asHex(hashCommitments(a.raw('commitments'))) },
  commit_binding: {
    floats: EXACT,
    run: (a) =>
      asHex(
        commitBindingDigest(
          {
            tokens: a.ints('tokens'),
            randomness: a.str('randomness'),
            modelName: a.str('model_name'),
            layerIndex: a.int('layer_index'),
            commitments: a.raw('commitments'),
          },
          V4.grail,
        ),
      ),
  },
  envelope_digest: { floats: EXACT, run: (a) => asHex(envelopeDigest(envelopeFields(a), V4.wire)) },
  precommit_digest: {
    floats: EXACT,
    run: (a) =>
      asHex(
        precommitDigest(
          {
            ...envelopeFields(a),
            environment: a.str('environment'),
            payloadBytes: a.int('payload_bytes'),
            payloadSha256: a.str('payload_sha256'),
          },
          V4.wire,
        ),
      ),
  },
  window_randomness: { floats: EXACT, run: (a) => windowRandomness(a.str('beacon_randomness'), a.int('round')) },
  drand_round: { floats: EXACT, run: (a) => drandRound(a.float('t'), V4.drand) },
  prompt_range: {
    floats: EXACT,
    // n is a Python int upstream (unbounded): read it exactly and compute in bigint.
    run: (a) => promptRangeBig(a.str('randomness'), a.str('env'), a.bigint('n'), V4.promptRange).map(pyInt),
  },
  dedup_hash: { floats: EXACT, run: (a) => asHex(dedupHash(a.ints('tokens'))) },
  merkle_root: {
    floats: EXACT,
    run: (a) =>
      asHex(legacyMerkleRoot(a.records('leaves').map((l) => ({ tokens: l['tokens'], reward: l['reward'], commit: l['commit'] })))),
  },
  grpo_advantages: { floats: GRPO_TOLERANCE, run: (a) => grpoAdvantages(a.floats('rewards'), V4.grpo.advantageEpsilon) },
  overlong_penalty: { floats: GRPO_TOLERANCE, run: (a) => overlongPenalty(a.int('length'), a.int('cap'), a.int('soft')) },
  surrogate: { floats: GRPO_TOLERANCE, run: (a) => surrogate(a.float('ratio'), a.float('advantage'), V4.grpo) },
  // Upstream's gated utility (market §4): σ·(1−μ)^δ, or 0 when σ < ε or σ < the floor (0.24; 0.22 with
  // "bootstrap": true).
  zone_value: {
    floats: GRPO_TOLERANCE,
    run: (a) => {
      const bootstrap = a.has('bootstrap') && a.bool('bootstrap');
      return gatedUtility(a.floats('rewards'), bootstrap ? V4.zone.sigmaMinBootstrap : V4.zone.sigmaMin, V4.zone);
    },
  },
  math_reward: { floats: EXACT, run: (a) => mathReward(a.str('completion'), a.str('ground_truth')) },
  extract_boxed: { floats: EXACT, run: (a) => extractBoxed(a.str('text')) },
  code_extract: { floats: EXACT, run: (a) => codeExtract(a.str('text')) },
  /** Issue 15 §2: passed/tests of the completion's program, run in the pyodide sandbox (a fraction i/T, exact). */
  code_reward: { floats: EXACT, run: (a) => codeRewardSync(a.str('completion'), a.str('entry'), a.strs('tests')) },
};
