/**
 * `drandQuicknet(options)`: a `Beacon` over drand quicknet's public HTTP relays.
 *
 * Each call races every relay (first *verified* beacon wins, the others are aborted), with a per-request timeout
 * and a few attempts separated by doubling backoff. A relay that answers with a beacon that fails verification
 * (bad signature, wrong randomness, wrong round) or that serves another chain's `/info` is dropped for the rest of
 * the call; another relay's good answer still wins. When nothing valid arrives the call fails with `unavailable`
 * and the error lists what each relay did.
 *
 * Relay API (drand HTTP v1 paths, as the public relays serve them):
 *   GET {relay}/{chainHash}/info          → { public_key, period, genesis_time, hash, … }   (checked when served)
 *   GET {relay}/{chainHash}/public/{n}    → { round, signature, randomness? }
 *   GET {relay}/{chainHash}/public/latest → same
 * `randomness` is optional on the wire (some APIs omit it); it is always recomputed as sha256(signature) and, when
 * present, must match.
 *
 * Runtime-agnostic: it uses only `fetch`, `AbortController` and `setTimeout`, and `fetch` is injectable.
 *
 * @example
 *   const beacon = drandQuicknet({ timeoutMs: 2000 });
 *   const b = await beacon.round(beacon.roundAt(Date.now() / 1000));
 */
import { BeaconError, type Beacon, type BeaconRound, type BeaconSourceFailure } from '../../core/interfaces/beacon.ts';
import { V4, type Profile } from '../../core/profile/index.ts';
import { drandRound } from '../../core/protocol/randomness.ts';
import { verifyQuicknetBeacon, type UnverifiedBeacon } from './verify.ts';

/** The part of `fetch` this plugin uses; `globalThis.fetch` fits, and so does a test double. */
export type FetchLike = (
  url: string,
  init: { signal: AbortSignal; headers?: Record<string, string> },
) => Promise<{ ok: boolean; status: number; json(): Promise<unknown> }>;

export interface DrandQuicknetOptions {
  /** Relay base URLs, raced on every call. */
  relays: readonly string[];
  /** Chain parameters: hash, G2 public key, period, genesis, DST. */
  chain: Profile['drand'];
  /** HTTP client. Defaults to the global `fetch`, looked up at call time. */
  fetch: FetchLike;
  /** Per-request timeout (ms). */
  timeoutMs: number;
  /** Attempts per call (spec §1: the validator fetches beacon R with 3 tries). */
  attempts: number;
  /** Wait before the second attempt (ms); doubles after each further failure. */
  backoffMs: number;
  /** Fetch each relay's `/{chainHash}/info` once and refuse the relay if it describes another chain. */
  checkInfo: boolean;
}

/** The public quicknet relays. Never contacted by the tests. */
export const QUICKNET_RELAYS: readonly string[] = Object.freeze([
  'https://api.drand.sh',
  'https://api2.drand.sh',
  'https://api3.drand.sh',
  'https://drand.cloudflare.com',
]);

/** The host's `fetch`, looked up at call time (so a runtime without one fails on use, not on import). */
const globalFetch: FetchLike = function globalFetch(url, init) {
  return globalThis.fetch(url, init);
};

/** Documented defaults; `drandQuicknet(options)` merges its options over these. */
export const DRAND_QUICKNET_DEFAULTS: Readonly<DrandQuicknetOptions> = Object.freeze({
  relays: QUICKNET_RELAYS,
  chain: V4.drand,
  fetch: globalFetch,
  timeoutMs: 5000,
  attempts: 3,
  backoffMs: 250,
  checkInfo: true,
});

/** What a relay's `/info` check concluded (cached per relay once a relay has answered). */
type InfoVerdict = { ok: true } | { ok: false; error: BeaconError };

/** A drand quicknet beacon client over HTTP relays; every returned round is BLS-verified. `chain`: what it follows. */
export function drandQuicknet(options: Partial<DrandQuicknetOptions> = {}): Beacon & { readonly chain: Profile['drand'] } {
  const o: DrandQuicknetOptions = { ...DRAND_QUICKNET_DEFAULTS, ...options };
  const relays = checkOptions(o);
  const chainHash = o.chain.chainHash.toLowerCase();
  const infoVerdicts = new Map<string, InfoVerdict>();
  /** Recently verified rounds (a round never changes): the validator asks again for the round it opened on. */
  const verified = new Map<number, BeaconRound>();
  const remember = (b: BeaconRound): BeaconRound => {
    if (verified.size >= 32) verified.delete(verified.keys().next().value!);
    verified.set(b.round, b);
    return b;
  };

  /** GET `url` with the per-request timeout, also aborted by `signal`. Returns the status and (if ok) the JSON. */
  async function request(url: string, signal: AbortSignal): Promise<{ status: number; ok: boolean; body: unknown }> {
    const ctl = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    let onAbort = () => {};
    // Settles (rejects) on the per-request timeout or when the caller aborts, even if `fetch` ignores its signal.
    const stop = new Promise<never>((_, reject) => {
      onAbort = () => {
        ctl.abort(signal.reason);
        reject(new BeaconError('unavailable', 'aborted'));
      };
      timer = setTimeout(() => {
        ctl.abort();
        reject(new BeaconError('unavailable', `no answer within ${o.timeoutMs} ms`));
      }, o.timeoutMs);
    });
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    try {
      const res = await Promise.race([o.fetch(url, { signal: ctl.signal, headers: { accept: 'application/json' } }), stop]);
      if (!res.ok) return { status: res.status, ok: false, body: undefined };
      let body: unknown;
      try {
        body = await Promise.race([res.json(), stop]);
      } catch (e) {
        if (e instanceof BeaconError) throw e;
        throw new BeaconError('malformed', `response is not JSON (${errorText(e)})`);
      }
      return { status: res.status, ok: true, body };
    } catch (e) {
      if (e instanceof BeaconError) throw e;
      throw new BeaconError('unavailable', signal.aborted ? 'aborted' : `request failed (${errorText(e)})`);
    } finally {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
    }
  }

  /** Check (once per relay) that the relay's `/info` describes our chain. A relay that does not serve it passes. */
  async function checkRelayInfo(relay: string, signal: AbortSignal): Promise<void> {
    const cached = infoVerdicts.get(relay);
    if (cached) {
      if (cached.ok) return;
      throw cached.error;
    }
    let res: { status: number; ok: boolean; body: unknown };
    try {
      res = await request(`${relay}/${chainHash}/info`, signal);
    } catch {
      return; // unreachable or unreadable /info: not served; the beacon itself is still verified
    }
    if (!res.ok) {
      if (res.status === 404) infoVerdicts.set(relay, { ok: true });
      return;
    }
    const problem = infoMismatch(res.body, o.chain);
    const verdict: InfoVerdict = problem === undefined ? { ok: true } : { ok: false, error: new BeaconError('wrong_chain', problem) };
    infoVerdicts.set(relay, verdict);
    if (!verdict.ok) throw verdict.error;
  }

  /** One relay's answer for `path`, verified, or a BeaconError saying why not. */
  async function fromRelay(relay: string, path: string, expectedRound: number | undefined, signal: AbortSignal): Promise<BeaconRound> {
    const [, res] = await Promise.all([
      o.checkInfo ? checkRelayInfo(relay, signal) : undefined,
      request(`${relay}/${chainHash}/public/${path}`, signal),
    ]);
    if (!res.ok) throw new BeaconError('unavailable', `HTTP ${res.status}`);
    const beacon = verifyQuicknetBeacon(parseBeaconBody(res.body), o.chain);
    if (expectedRound !== undefined && beacon.round !== expectedRound) {
      throw new BeaconError('wrong_round', `asked for round ${expectedRound}, got round ${beacon.round}`);
    }
    return beacon;
  }

  /** Race the relays for `path`, with attempts and backoff. */
  async function fetchVerified(path: string, expectedRound: number | undefined, what: string): Promise<BeaconRound> {
    const failures = new Map<string, BeaconSourceFailure>();
    const dropped = new Set<string>(); // relays that answered with something invalid: not asked again this call
    let attempts = 0;
    for (let attempt = 0; attempt < o.attempts; attempt++) {
      const live = relays.filter((r) => !dropped.has(r));
      if (live.length === 0) break;
      if (attempt > 0) await sleep(o.backoffMs * 2 ** (attempt - 1));
      attempts++;
      const race = new AbortController();
      try {
        return await Promise.any(
          live.map((relay) =>
            fromRelay(relay, path, expectedRound, race.signal).catch((e: unknown) => {
              const err = e instanceof BeaconError ? e : new BeaconError('unavailable', errorText(e));
              failures.set(relay, { source: relay, reason: err.reason, message: err.message });
              if (err.reason !== 'unavailable') dropped.add(relay);
              throw err;
            }),
          ),
        );
      } catch {
        // every relay failed this attempt; back off and try again
      } finally {
        race.abort(); // stop the losers
      }
    }
    const detail = relays.map((r) => {
      const f = failures.get(r);
      return `${r}: ${f ? `${f.reason} (${f.message})` : 'not asked'}`;
    });
    throw new BeaconError(
      'unavailable',
      `drand quicknet ${what}: no relay served a valid beacon in ${attempts} attempt${attempts === 1 ? '' : 's'} — ${detail.join('; ')}. ` +
        'Check network access to the relays, or configure others with the `relays` option.',
      relays.flatMap((r) => failures.get(r) ?? []),
    );
  }

  return {
    name: 'drand-quicknet',
    chain: o.chain,
    latest: async function latest() {
      return remember(await fetchVerified('latest', undefined, 'latest round'));
    },
    round: async function round(n: number) {
      if (!Number.isSafeInteger(n) || n < 1) throw new BeaconError('malformed', `round ${n} is not a positive integer`);
      return verified.get(n) ?? remember(await fetchVerified(String(n), n, `round ${n}`));
    },
    roundAt: function roundAt(unixSeconds: number) {
      return drandRound(unixSeconds, o.chain);
    },
  };
}

/** Validate options at construction; returns the relay URLs without trailing slashes. */
function checkOptions(o: DrandQuicknetOptions): string[] {
  if (!Array.isArray(o.relays) || o.relays.length === 0) throw new RangeError('drandQuicknet: `relays` must list at least one relay URL');
  const relays = o.relays.map((r) => {
    if (typeof r !== 'string' || !/^https?:\/\/[^/]/.test(r)) throw new RangeError(`drandQuicknet: relay ${JSON.stringify(r)} is not an http(s) URL`);
    return r.replace(/\/+$/, '');
  });
  if (!/^[0-9a-fA-F]{64}$/.test(o.chain.chainHash)) throw new RangeError('drandQuicknet: `chain.chainHash` must be 64 hex characters');
  if (typeof o.fetch !== 'function') throw new TypeError('drandQuicknet: `fetch` must be a function');
  for (const k of ['timeoutMs', 'backoffMs'] as const) {
    if (!(Number.isFinite(o[k]) && o[k] >= 0)) throw new RangeError(`drandQuicknet: \`${k}\` must be a non-negative number`);
  }
  if (!(Number.isSafeInteger(o.attempts) && o.attempts >= 1)) throw new RangeError('drandQuicknet: `attempts` must be an integer ≥ 1');
  return relays;
}

/** `{ round, signature, randomness? }` from a relay's JSON, or `malformed`. */
export function parseBeaconBody(body: unknown): UnverifiedBeacon {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new BeaconError('malformed', 'beacon is not a JSON object');
  const b = body as Record<string, unknown>;
  const round = b['round'];
  const signature = b['signature'];
  const randomness = b['randomness'];
  if (typeof round !== 'number') throw new BeaconError('malformed', `beacon.round is ${typeof round}, expected a number`);
  if (typeof signature !== 'string') throw new BeaconError('malformed', `beacon.signature is ${typeof signature}, expected a hex string`);
  if (randomness !== undefined && typeof randomness !== 'string') {
    throw new BeaconError('malformed', `beacon.randomness is ${typeof randomness}, expected a hex string`);
  }
  return { round, signature, randomness };
}

/** Why a relay's `/info` body does not describe `chain`, or undefined when it does (absent fields are not checked). */
export function infoMismatch(body: unknown, chain: Profile['drand']): string | undefined {
  if (typeof body !== 'object' || body === null) return 'chain info is not a JSON object';
  const info = body as Record<string, unknown>;
  const checks: [string, unknown, string | number][] = [
    ['hash', info['hash'], chain.chainHash.toLowerCase()],
    ['public_key', info['public_key'], chain.publicKey.toLowerCase()],
    ['period', info['period'], chain.periodSeconds],
    ['genesis_time', info['genesis_time'], chain.genesisTime],
  ];
  for (const [field, got, want] of checks) {
    if (got === undefined) continue;
    const norm = typeof got === 'string' ? got.toLowerCase() : got;
    if (norm !== want) return `relay serves another chain: info.${field} is ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`;
  }
  return undefined;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
