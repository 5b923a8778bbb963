import { describe, expect, it } from 'vitest';
import { DEVNET, PRODUCTION_V2, V4, generationContract, getProfile, profileIds } from '../../core/profile/index.ts';

describe('profiles', () => {
  it('are looked up by id, and an unknown id names the known ones', () => {
    expect(getProfile('qwen3-4b-base-dapo-v4')).toBe(V4);
    expect(getProfile(DEVNET.id)).toBe(DEVNET);
    expect(() => getProfile('v2')).toThrow(/unknown protocol profile "v2"; known profiles: qwen3-4b-base-dapo-v4, qwen3-4b-base-reliquary-v2, reliquary-devnet-v2/);
    expect(profileIds()).toEqual([V4.id, PRODUCTION_V2.id, DEVNET.id]);
  });

  it('are deeply immutable', () => {
    expect(Object.isFrozen(V4)).toBe(true);
    expect(Object.isFrozen(V4.grail)).toBe(true);
    expect(Object.isFrozen(V4.environmentMix[0])).toBe(true);
    expect(() => {
      (V4.sampling as { rollouts: number }).rollouts = 8;
    }).toThrow(TypeError);
  });

  it('hold the v4 production constants', () => {
    expect(V4.protocolVersion).toBe(4);
    expect(V4.sampling).toEqual({ rollouts: 16, temperature: 1.0, topP: 1.0, topK: 0, doSample: false });
    expect(V4.window.collectionSeconds).toBe(100);
    expect(V4.window.uploadGraceSeconds).toBe(33);
    expect(V4.grpo.clipHigh).toBe(0.28);
    expect(V4.zone.sigmaMin).toBe(0.24);
    expect(V4.auction.winnersPerEnv).toBe(16);
    expect(V4.model.revision).toBe('906bfd4b4dc7f14ee4320094d8b41684abff8539');
  });

  it('advertise exactly the v4 generation contract of protocol.md §7', () => {
    expect(generationContract(V4)).toEqual({
      profile_id: 'qwen3-4b-base-dapo-v4',
      model_id: 'Qwen/Qwen3-4B-Base',
      model_revision: '906bfd4b4dc7f14ee4320094d8b41684abff8539',
      protocol_version: 4,
      prompt_encoding: 'raw',
      throughput_tiebreak: { token_cap: 8192, bucket_tokens_per_round: 50 },
      collection_seconds: 100,
      upload_grace_seconds: 33,
      sampling: { rollouts: 16, temperature: 1.0, top_p: 1.0, top_k: 0, do_sample: false },
      environments: {
        openmathinstruct: { max_new_tokens: 8192, answer_format: 'boxed', bft: null },
        opencodeinstruct: { max_new_tokens: 8192, answer_format: null, bft: null },
      },
    });
  });
});
