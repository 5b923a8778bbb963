/**
 * Issue 15: a devnet configured with env-code grades submissions. A validator (env-code, the pyodide sandbox as the
 * runner, graded by the admission's async path once a reveal authenticated) and one miner on the tiny random Qwen3 of profile DEVNET_CODE
 * over loopback for one window, with the real admission and proof path. The random model writes no program, so
 * every graded reward is 0 and every group is refused OUT_OF_ZONE; a hand-written correct completion graded the way
 * the admission worker grades scores 1 through the sandbox.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadCheckpoint } from '../../core/model/checkpoint.ts';
import { DEVNET_CODE } from '../../core/profile/index.ts';
import { formatWindow } from '../../hosts/node/devnet/report.ts';
import { makeCodeDevnetModel, runCodeDevnet } from '../../hosts/node/code-devnet/code-devnet.ts';
import { nodeCheckpointFs } from '../../hosts/node/fs-checkpoint.ts';

const dirs: string[] = [];
const tmp = async (): Promise<string> => {
  const d = await mkdtemp(join(tmpdir(), 'code-devnet-'));
  dirs.push(d);
  return d;
};
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe('code devnet (env-code on the tiny random Qwen3)', () => {
  it('the model is made from its seed: same seed, same bytes; the Qwen3 vocabulary and EOS', async () => {
    const [a, b] = [await tmp(), await tmp()];
    await makeCodeDevnetModel(a, 7);
    await makeCodeDevnetModel(b, 7);
    const fs = nodeCheckpointFs();
    const [x, y] = [await fs.readFile(join(a, 'model.safetensors')), await fs.readFile(join(b, 'model.safetensors'))];
    expect(Buffer.compare(Buffer.from(x), Buffer.from(y))).toBe(0);
    const c = (await loadCheckpoint(fs, a)).config as Record<string, unknown>;
    expect(c['vocab_size']).toBe(DEVNET_CODE.model.vocabSize);
    expect(c['eos_token_id']).toBe(DEVNET_CODE.model.eosTokenIds[0]);
  });

  it('every submission is graded; rewards 0 → OUT_OF_ZONE; a correct completion scores 1 through the sandbox', async () => {
    const lines: string[] = [];
    const r = await runCodeDevnet({
      windows: 1, miners: 1, dataDir: await tmp(), collectionSeconds: 60, groupsPerWindow: 1, sandboxWorkers: 1,
      log: (l) => lines.push(`${new Date().toISOString().slice(11, 19)} ${l}`),
      onWindow: (w, verdicts) => {
        lines.push(...formatWindow(w, new Map()));
        for (const v of verdicts) lines.push(`  verdict ${v.miner} w${v.window} ${v.reason} ${v.detail}`);
      },
    });
    const m = r.miners[0]!.stats.reduce((a, s) => ({ submitted: a.submitted + s.submitted, accepted: a.accepted + s.accepted }), { submitted: 0, accepted: 0 });
    lines.push(`miner stats ${JSON.stringify(r.miners[0]!.stats)}`);
    lines.push(`miner submitted ${m.submitted} accepted ${m.accepted}; grading ${JSON.stringify(r.grading)}; hand-written ${JSON.stringify(r.handWritten)}; ${r.seconds.toFixed(1)} s`);
    process.stderr.write(`${lines.join('\n')}\n`);
    expect(r.profile.environments['opencodeinstruct']!.maxNewTokens).toBe(48);
    expect(m.submitted).toBeGreaterThan(0);
    // Each rollout of each submitted group went through the async grading and the worker's grading.
    expect(r.grading.asyncGradings).toBe(m.submitted * DEVNET_CODE.sampling.rollouts);
    expect(r.grading.workerGradings).toBe(m.submitted * DEVNET_CODE.sampling.rollouts);
    expect(r.grading.faults).toEqual({});
    expect(Object.keys(r.grading.rewards)).toEqual(['0']);
    expect(m.accepted).toBe(0);
    const graded = r.verdicts.filter((v) => v.reason !== 'submitted');
    expect(graded.length).toBe(m.submitted);
    for (const v of graded) expect(v.reason).toBe('out_of_zone');
    expect(r.windows[0]!.rejects['out_of_zone']).toBe(m.submitted);
    // The hand-written completion: not graded yet → an outage (refunded), then graded by the sandbox → 1.
    expect(r.handWritten.before).toMatchObject({ ok: false, fault: 'outage' });
    expect(r.handWritten.after).toEqual({ ok: true, reward: 1 });
    expect(r.handWritten.sandboxRuns).toBe(1);
  }, 240_000);
});
