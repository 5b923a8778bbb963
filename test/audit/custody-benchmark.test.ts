/**
 * The held-out benchmark a manifest announces (issue 13 part 4) is signed with the custody block (core/audit/custody.ts):
 * its canonical-JSON digest is part of the custody message, so an edited figure, or a benchmark added to a manifest
 * whose custody did not sign one, fails verifyCustody with its reason.
 */
import { describe, expect, it } from 'vitest';
import { benchmarkDigest, custodyBlock, verifyCustody, type CustodyManifest } from '../../core/audit/custody.ts';
import { utf8 } from '../../core/protocol/codec.ts';
import { sha256 } from '../../core/protocol/hash.ts';
import { signerFromSeed } from '../../core/protocol/sr25519.ts';
import type { CheckpointBenchmark } from '../../core/validator/benchmark.ts';
import { manifestOf } from '../../core/validator/publish.ts';
import type { PublishedCheckpoint } from '../../core/validator/report.ts';

const signer = signerFromSeed(sha256(utf8('custody-benchmark-test')));
const bench: CheckpointBenchmark = {
  parentCheckpointN: 0, problems: 90, k: 2, parentPassAt1: 0.455, passAt1: 0.462,
  diff: { mean: 0.007, lo: -0.002, hi: 0.016, level: 0.95 }, paired: true,
};
const parent: PublishedCheckpoint = { checkpointN: 0, revision: 'a'.repeat(40), dir: 'base', window: null };
const pub: PublishedCheckpoint = { checkpointN: 1, revision: 'b'.repeat(40), dir: 'ckpt-1', window: 0, benchmark: bench };
const bundles = [{ window: 0, sha256: 'c'.repeat(64) }];

function manifest(p: PublishedCheckpoint): CustodyManifest {
  return manifestOf(p, signer, custodyBlock(p, parent, bundles, signer));
}

describe('custody signs the benchmark', () => {
  it('a manifest with its benchmark verifies; the digest ignores key order', () => {
    const m = manifest(pub);
    expect(m.custody!.benchmark_sha256).toBe(benchmarkDigest(bench));
    expect(verifyCustody(m, signer.ss58)).toBeNull();
    const reordered = JSON.parse(JSON.stringify({ diff: bench.diff, paired: true, k: 2, problems: 90, passAt1: 0.462, parentPassAt1: 0.455, parentCheckpointN: 0 })) as CheckpointBenchmark;
    expect(benchmarkDigest(reordered)).toBe(benchmarkDigest(bench));
  });

  it('an edited figure fails', () => {
    const m = manifest(pub);
    const edited = { ...m, benchmark: { ...bench, passAt1: 0.562 } };
    expect(verifyCustody(edited, signer.ss58)).toMatch(/does not match its signed digest/);
    const editedInterval = { ...m, benchmark: { ...bench, diff: { ...bench.diff, lo: 0.001 } } };
    expect(verifyCustody(editedInterval, signer.ss58)).toMatch(/does not match its signed digest/);
  });

  it('a benchmark the custody did not sign fails; removing the signed digest breaks the signature', () => {
    const { benchmark: _b, ...noBench } = pub;
    const m = manifest(noBench);
    expect(m.custody!.benchmark_sha256).toBeUndefined();
    expect(verifyCustody(m, signer.ss58)).toBeNull();
    expect(verifyCustody({ ...m, benchmark: bench }, signer.ss58)).toMatch(/not covered by the custody signature/);
    const signed = manifest(pub);
    const { benchmark_sha256: _d, ...stripped } = signed.custody!;
    expect(verifyCustody({ ...signed, custody: stripped }, signer.ss58)).toBe('custody signature does not verify');
  });
});
