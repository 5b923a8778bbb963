/**
 * Issue 12: nodes assembled from configs through the registry, self-describing environments and what a miner checks.
 * - both roles from a JSON config (built-ins by name, an environment module from a path outside the source tree);
 * - the environment set: env-arith on the devnet profile is the devnet profile itself (v4/devnet bytes unchanged), an
 *   extra environment's spec is merged into an effective profile, duplicate names, missing specs and prompts the
 *   tokenizer cannot encode are refused naming the environment (and the problem index);
 * - a miner whose set differs gets the difference named; a tampered manifest or tampered weights are refused.
 */
import { copyFile, mkdtemp, rm, writeFile, cp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkCheckpoint } from '../../core/miner/checkpoint-check.ts';
import { environmentSet, environmentSetDifference, EnvironmentSetError } from '../../core/plugins/environment-set.ts';
import { DEVNET, generationContract } from '../../core/profile/index.ts';
import { signerFromSeed } from '../../core/protocol/sr25519.ts';
import { DEVNET_CHAR_TOKENIZER } from '../../core/tokenizer/char.ts';
import { checkpointRevision, manifestOf } from '../../core/validator/publish.ts';
import { envArith } from '../../plugins/env-arith/index.ts';
import { nodeCheckpointFs } from '../../hosts/node/fs-checkpoint.ts';
import { assembleMiner, assembleValidator } from '../../hosts/node/nodes/assemble.ts';
import { ConfigError, loadConfig, withEnvModules, EMPTY_CONFIG } from '../../hosts/node/nodes/config.ts';

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'reliquary-nodes-'));
  await copyFile(resolve('test/nodes/fixtures/env-digits.mjs'), join(dir, 'env-digits.mjs'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('node configs through the registry', () => {
  it('assembles a validator and a miner from a JSON config, with an environment module outside the source tree', async () => {
    const file = join(dir, 'node.json');
    await writeFile(file, JSON.stringify({ plugins: ['env-arith', { use: './env-digits.mjs', options: { size: 300 } }, 'beacon-local'] }));
    const config = await loadConfig(file);
    const v = await assembleValidator(config, { dataDir: join(dir, 'v') });
    expect(v.registry.list().map((r) => `${r.kind}:${r.name}`)).toEqual([
      'store:store-fs', 'chain:chain-local', 'beacon:beacon-local', 'environment:env-arith', 'environment:env-digits',
    ]);
    expect(v.environments.summary.map((e) => [e.name, e.size, e.maxNewTokens])).toEqual([['arith', 9000, 32], ['digits', 300, 12]]);
    expect(v.environments.profile.environmentMix).toEqual([['arith', 4], ['digits', 4]]);
    expect(v.environments.profile.environments['digits']!.maxTruncatedPerGroup).toBe(16);
    const m = await assembleMiner(config.plugins.some((p) => p.use === 'beacon-local') ? { ...config, plugins: config.plugins.filter((p) => p.use !== 'beacon-local') } : config);
    expect(m.environments.digest).toBe(v.environments.digest);
    expect(m.selector).toBe('frontier');
  });

  it('defaults: no config is env-arith on the devnet profile, unchanged (same object, same generation contract)', async () => {
    const m = await assembleMiner(EMPTY_CONFIG);
    expect(m.environments.profile).toBe(DEVNET);
    expect(generationContract(m.environments.profile)).toEqual(generationContract(DEVNET));
    const v = await assembleValidator(EMPTY_CONFIG, { dataDir: join(dir, 'v0') });
    expect(v.registry.list().map((r) => r.name)).toEqual(['store-fs', 'chain-local', 'beacon-local', 'env-arith']);
  });

  it('--env adds a module; unknown plugins, options and keys are one-line ConfigErrors', async () => {
    const m = await assembleMiner(withEnvModules(EMPTY_CONFIG, [join(dir, 'env-digits.mjs')]));
    expect(m.environments.summary.map((e) => e.name)).toEqual(['digits']);
    await expect(assembleMiner({ ...EMPTY_CONFIG, plugins: [{ use: 'env-nope' }] })).rejects.toThrow(ConfigError);
    await expect(assembleMiner({ ...EMPTY_CONFIG, plugins: [{ use: 'env-arith', options: { sise: 3 } }] })).rejects.toThrow(/unknown option "sise"/);
    const bad = join(dir, 'bad.json');
    await writeFile(bad, JSON.stringify({ plugin: [] }));
    await expect(loadConfig(bad)).rejects.toThrow(/unknown key "plugin"/);
  });
});

describe('the environment set', () => {
  it('refuses two environments with the same name', () => {
    expect(() => environmentSet(DEVNET, [envArith(), envArith()])).toThrow(/two environments are named "arith"/);
  });

  it('refuses an environment with no spec the profile does not know', () => {
    const { spec: _s, ...noSpec } = envArith({ name: 'other' });
    expect(() => environmentSet(DEVNET, [noSpec])).toThrow(EnvironmentSetError);
    expect(() => environmentSet(DEVNET, [noSpec])).toThrow(/"other" declares no spec/);
  });

  it('refuses, at registration, a prompt the tokenizer cannot encode, naming the environment and the problem index', () => {
    const base = envArith({ trainSize: 50 });
    const env = { ...base, name: 'letters', getProblem: (i: number) => (i === 17 ? { prompt: 'abc=', groundTruth: '1', id: 'x' } : base.getProblem(i)) };
    let err: unknown;
    try {
      environmentSet(DEVNET, [env], { tokenizer: DEVNET_CHAR_TOKENIZER });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(EnvironmentSetError);
    expect((err as EnvironmentSetError).problem).toBe('unencodable');
    expect((err as Error).message).toMatch(/environment "letters": the prompt of problem 17/);
  });

  it('names the difference between a validator set and a miner set', () => {
    const v = environmentSet(DEVNET, [envArith(), envArith({ name: 'arith2' })]).summary;
    const m = environmentSet(DEVNET, [envArith()]).summary;
    expect(environmentSetDifference(v, m)).toMatch(/the validator runs "arith2", which this miner does not have/);
    expect(environmentSetDifference(v, v)).toBeNull();
    // Same names and settings, other problems: only the digest tells them apart.
    expect(environmentSet(DEVNET, [envArith({ seed: 'other' })]).digest).not.toBe(environmentSet(DEVNET, [envArith()]).digest);
  });
});

describe('a miner verifies a checkpoint before switching', () => {
  it('accepts the signed manifest of the real weights; refuses a tampered signature and tampered weights', async () => {
    const fs = nodeCheckpointFs();
    const ck = join(dir, 'ckpt');
    await cp(resolve('models/tiny-arith'), ck, { recursive: true });
    const validator = signerFromSeed(new Uint8Array(32).fill(7));
    const revision = await checkpointRevision(fs, ck);
    const manifest = manifestOf({ checkpointN: 3, revision, dir: ck, window: 2 }, validator);
    expect(await checkCheckpoint({ manifest, validatorHotkey: validator.ss58, expectedN: 3, fs })).toMatchObject({ ok: true, dir: ck });

    const forged = { ...manifest, revision: revision.replace(/^./, (c) => (c === '0' ? '1' : '0')) };
    const r1 = await checkCheckpoint({ manifest: forged, validatorHotkey: validator.ss58, expectedN: 3, fs });
    expect(r1).toMatchObject({ ok: false, reason: 'bad_signature' });
    const other = signerFromSeed(new Uint8Array(32).fill(9));
    expect(await checkCheckpoint({ manifest: manifestOf({ checkpointN: 3, revision, dir: ck, window: 2 }, other), validatorHotkey: validator.ss58, fs }))
      .toMatchObject({ ok: false, reason: 'bad_signature' });

    const bytes = await fs.readFile(join(ck, 'model.safetensors'));
    bytes[bytes.length - 1]! ^= 1;
    await writeFile(join(ck, 'model.safetensors'), bytes);
    const r2 = await checkCheckpoint({ manifest, validatorHotkey: validator.ss58, expectedN: 3, fs });
    expect(r2).toMatchObject({ ok: false, reason: 'revision_mismatch' });
    expect(!r2.ok && r2.message).toMatch(/hash to revision [0-9a-f]{40}, not the manifest's/);
  });
});
