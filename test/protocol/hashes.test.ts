import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { V4 } from '../../core/profile/index.ts';
import { commitBindingDigest, envelopeDigest, hashCommitments, precommitDigest } from '../../core/protocol/bindings.ts';
import { hex } from '../../core/protocol/codec.ts';
import { dedupHash, legacyMerkleLeaf, legacyMerkleRoot, selectionDigest } from '../../core/protocol/hashes.ts';
import { parsePyJson, PyFloat, type PyJson } from '../../core/protocol/pyjson.ts';
import { drandRound, promptRangeBig, windowRandomness } from '../../core/protocol/randomness.ts';
import { HAS_PYTHON, runPython } from './python-oracle.ts';

const MERKLE_VECTOR =
  '[{"tokens":[1,2,3],"reward":1.0,"commit":{"b":[1],"a":0.5}}, {"tokens":[4],"reward":0.0,"commit":{"x":"é"}}, {"tokens":[5],"reward":1e-05,"commit":{}}]';

describe('§11 hash vectors', () => {
  it('dedup hash', () => {
    expect(dedupHash([1, 2, 3])).toBe('7b0b5ea3ff36958c8e32ccf24b71da9ac68e51d0881bf75e62b837ec9ea6f3a5');
  });
  it('legacy Merkle root over the parsed body', () => {
    const leaves = parsePyJson(MERKLE_VECTOR) as { tokens: PyJson[]; reward: PyJson; commit: PyJson }[];
    expect(legacyMerkleRoot(leaves)).toBe('9638e90c7c85b32c19d78c8e1c0dcc0ef8486158da80143355e2e7687f55db60');
  });
  it('a plain-JS reward of 1 (int) gives a different root than the float 1.0', () => {
    const leaves = parsePyJson(MERKLE_VECTOR) as { tokens: PyJson[]; reward: PyJson; commit: PyJson }[];
    const asInts = leaves.map((l) => ({ ...l, reward: (l.reward as PyFloat).value }));
    expect(legacyMerkleRoot(asInts)).not.toBe('9638e90c7c85b32c19d78c8e1c0dcc0ef8486158da80143355e2e7687f55db60');
    expect(legacyMerkleRoot(asInts.map((l) => ({ ...l, reward: new PyFloat(l.reward) })))).toBe(
      '9638e90c7c85b32c19d78c8e1c0dcc0ef8486158da80143355e2e7687f55db60',
    );
  });
  it('odd nodes pair with themselves; one leaf is its own root; empty throws', () => {
    const leaf = { tokens: [1], reward: 0, commit: {} };
    expect(legacyMerkleRoot([leaf])).toBe(hex(legacyMerkleLeaf(0, leaf)));
    expect(() => legacyMerkleRoot([])).toThrow(RangeError);
    expect(() => selectionDigest([])).toThrow(RangeError);
  });
});

describe('test/vectors/protocol.json cases for these modules', () => {
  const file = parsePyJson(readFileSync(new URL('../vectors/protocol.json', import.meta.url), 'utf8')) as {
    cases: { fn: string; args: Record<string, PyJson>; expect: PyJson }[];
  };
  const run: Record<string, (a: Record<string, PyJson>) => unknown> = {
    commitments_hash: (a) => hex(hashCommitments(a.commitments)),
    commit_binding: (a) =>
      hex(
        commitBindingDigest(
          {
            tokens: a.tokens as number[],
            randomness: a.randomness as string,
            modelName: a.model_name as string,
            layerIndex: a.layer_index as number,
            commitments: a.commitments,
          },
          V4.grail,
        ),
      ),
    envelope_digest: (a) => hex(envelopeDigest(envelopeArgs(a), V4.wire)),
    precommit_digest: (a) =>
      hex(
        precommitDigest(
          {
            ...envelopeArgs(a),
            protocolVersion: a.protocol_version as number,
            environment: a.environment as string,
            payloadBytes: a.payload_bytes as number,
            payloadSha256: a.payload_sha256 as string,
          },
          V4.wire,
        ),
      ),
    window_randomness: (a) => windowRandomness(a.beacon_randomness as string, a.round as number),
    drand_round: (a) => drandRound(Number(a.t), V4.drand),
    // n is a Python int (vectors go beyond 2^53): exact bigint maths, safe results compared as numbers.
    prompt_range: (a) =>
      promptRangeBig(a.randomness as string, a.env as string, BigInt(a.n as number | bigint), V4.promptRange).map((x) =>
        x <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(x) : x,
      ),
    dedup_hash: (a) => dedupHash(a.tokens as number[]),
    merkle_root: (a) => legacyMerkleRoot(a.leaves as { tokens: PyJson; reward: PyJson; commit: PyJson }[]),
  };
  const cases = file.cases.filter((c) => c.fn in run);
  it('covers every function of this task', () => {
    expect(new Set(cases.map((c) => c.fn))).toEqual(new Set(Object.keys(run)));
  });
  it.each(cases.map((c, i) => [`${c.fn} #${i}`, c] as const))('%s', (_name, c) => {
    expect(run[c.fn]!(c.args)).toEqual(c.expect);
  });
});

function envelopeArgs(a: Record<string, PyJson>) {
  return {
    hotkey: a.hotkey as string,
    windowStart: a.window_start as number,
    promptIdx: a.prompt_idx as number,
    merkleRoot: a.merkle_root as string,
    checkpointHash: a.checkpoint_hash as string,
    drandRound: a.drand_round as number,
    randomness: a.randomness as string,
    nonce: a.nonce as string,
    protocolVersion: a.protocol_version as number,
    profileId: a.profile_id as string,
  };
}

const ORACLE = String.raw`
import hashlib, json, random, struct
rng = random.Random(3)
def val(d=0):
    k = rng.random()
    if d > 2 or k < 0.5:
        return rng.choice([rng.randint(-10**20, 10**20), rng.random() * 10 ** rng.randint(-8, 20), 1.0, 0.0, -0.0, 1e-05,
                           ''.join(rng.choice('aé😀"\\\n') for _ in range(3)), True, None, float('nan')])
    if k < 0.75: return [val(d + 1) for _ in range(rng.randint(0, 3))]
    return {rng.choice(['a', 'b', '😀', '\uffff', '10', '2']): val(d + 1) for _ in range(rng.randint(0, 4))}
def merkle(leaves):
    hs = [hashlib.sha256(i.to_bytes(8, 'big') + json.dumps(l['tokens'], separators=(',', ':')).encode() + json.dumps(l['reward']).encode()
                         + json.dumps(l['commit'], sort_keys=True, separators=(',', ':')).encode()).digest() for i, l in enumerate(leaves)]
    while len(hs) > 1:
        if len(hs) % 2: hs.append(hs[-1])
        hs = [hashlib.sha256(hs[i] + hs[i + 1]).digest() for i in range(0, len(hs), 2)]
    return hs[0].hex()
out = []
for _ in range(150):
    leaves = [{'tokens': [rng.randint(0, 151935) for _ in range(rng.randint(1, 20))],
               'reward': rng.choice([1.0, 0.0, 1, 0, 0.5, 1e-05, rng.random(), -0.0]),
               'commit': {'tokens': [1, 2], 'commitments': [{'sketch': rng.randint(0, 2**31)}], 'meta': val()}} for _ in range(rng.randint(1, 17))]
    items = [{'env_name': rng.choice(['openmathinstruct', 'é', '']), 'tokens': l['tokens']} for l in leaves]
    streams = [{'env_name': it['env_name'], 'index': i, 'tokens': it['tokens']} for i, it in enumerate(items)]
    sel = hashlib.sha256(b'reliquary-selection-stream-v1\x00' + json.dumps(streams, sort_keys=True, separators=(',', ':'), allow_nan=False).encode()).hexdigest()
    out.append({'leaves': json.dumps(leaves), 'root': merkle(leaves), 'items': json.dumps(items), 'sel': sel,
                'dedup': [hashlib.sha256(b''.join(struct.pack('>I', t) for t in l['tokens'])).hexdigest() for l in leaves]})
print(json.dumps(out))
`;

describe.skipIf(!HAS_PYTHON)('hashes vs CPython', () => {
  it('150 random groups: Merkle root, selection digest, dedup hashes', () => {
    const cases = runPython<{ leaves: string; root: string; items: string; sel: string; dedup: string[] }[]>(ORACLE);
    for (const c of cases) {
      const leaves = parsePyJson(c.leaves) as { tokens: number[]; reward: PyJson; commit: PyJson }[];
      expect(legacyMerkleRoot(leaves)).toBe(c.root);
      const items = (parsePyJson(c.items) as { env_name: string; tokens: number[] }[]).map((it) => ({ envName: it.env_name, tokens: it.tokens }));
      expect(hex(selectionDigest(items))).toBe(c.sel);
      expect(leaves.map((l) => dedupHash(l.tokens))).toEqual(c.dedup);
    }
  });
});
