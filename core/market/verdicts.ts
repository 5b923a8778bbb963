/**
 * The verdict log behind `GET /verdicts/{hotkey}?since=` (spec/market.md §8): per hotkey, a ring of the last
 * `ring` records (200), each stamped with a timestamp strictly greater than every earlier one, so a miner polling
 * with `since = last ts` never misses or repeats a record.
 *
 * A submission's lifecycle is a sequence of records under its merkle root: `submitted` (queued) → `accepted`
 * (in the pool, `accepted_into_pool: true`) or the admission reject → at seal, a record with non-null
 * `selected_for_batch` and `rewarded` (and `canonical_rank`; a failed proof carries its reason and
 * `reject_stage: "auction_seal"`). Precommit refusals after the signature verified are recorded too
 * (`reject_stage: "precommit"`, the fix of market §11.9); unsigned ones are not, so nobody can fill another
 * hotkey's ring. A signed refusal of a hotkey that is not registered (anyone can make keys) goes to a bounded
 * guest table instead: at most `maxGuests` such hotkeys keep a ring, the least recently written one is dropped
 * first, so the log's memory is bounded by (registered hotkeys + `maxGuests`) × `ring`.
 *
 * @example
 *   const log = new VerdictLog(200, clock);
 *   log.record(hotkey, { merkle_root, window_n: 7, accepted: true, reason: 'submitted' });
 *   log.since(hotkey, 0); // ascending
 */
import type { Verdict } from '../protocol/wire.ts';

/** A verdict before it is stamped. */
export type VerdictDraft = Omit<Verdict, 'ts'>;

/** Unregistered hotkeys that keep a ring at most, by default. */
export const DEFAULT_MAX_GUESTS = 1024;

export class VerdictLog {
  private readonly rings = new Map<string, Verdict[]>();
  /** Rings of unregistered hotkeys, least recently written first. */
  private readonly guests = new Map<string, Verdict[]>();
  private lastTs = -Infinity;

  constructor(
    readonly ring: number,
    private readonly clock: () => number,
    readonly maxGuests: number = DEFAULT_MAX_GUESTS,
  ) {}

  /**
   * Appends a record for `hotkey`, stamped with a timestamp strictly after every earlier record; returns it.
   * `guest`: the hotkey is not registered; it keeps a ring only among the `maxGuests` most recently written guests.
   */
  record(hotkey: string, draft: VerdictDraft, guest = false): Verdict {
    let ts = this.clock();
    if (!(ts > this.lastTs)) ts = this.lastTs + 1e-6;
    this.lastTs = ts;
    const v = { ...draft, ts } as Verdict;
    const table = guest && !this.rings.has(hotkey) ? this.guests : this.rings;
    // A guest that registered takes its guest records along.
    const list = table.get(hotkey) ?? (table === this.rings ? (this.guests.get(hotkey) ?? []) : []);
    this.guests.delete(hotkey); // a guest is re-inserted below: most recently written last
    list.push(v);
    if (list.length > this.ring) list.splice(0, list.length - this.ring);
    if (table === this.guests) {
      if (this.maxGuests <= 0) return v;
      while (this.guests.size >= this.maxGuests) this.guests.delete(this.guests.keys().next().value!);
    }
    table.set(hotkey, list);
    return v;
  }

  /** The hotkey's records with `ts > since`, ascending. */
  since(hotkey: string, since: number): Verdict[] {
    return this.all(hotkey).filter((v) => v.ts > since);
  }

  /** Every record of `hotkey` (ascending). */
  all(hotkey: string): readonly Verdict[] {
    return this.rings.get(hotkey) ?? this.guests.get(hotkey) ?? [];
  }

  /** Hotkeys holding a ring: registered ones and guests. */
  get size(): { readonly members: number; readonly guests: number } {
    return { members: this.rings.size, guests: this.guests.size };
  }
}
