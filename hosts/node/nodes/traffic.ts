/**
 * `trafficCounter(service)`: what a validator host reports about its miners, without touching core. It wraps the
 * `ValidatorService` the HTTP app serves and counts, per window and per hotkey, precommits, reveals received
 * (`submitted`) and refusals by reason; graded verdicts (accepted into the pool, or rejected with a reason) are read
 * back from the service's verdict log (`poll`). The live collection line (`progressLine`) and the per-miner rows of
 * `reliquary validator --report` come from it.
 *
 * @example
 *   const t = trafficCounter(node.validator);
 *   serve(httpServer(t.service, { profile }));
 *   await t.poll(); log(t.progressLine(window, secondsLeft));
 */
import type { PrecommitResult, SubmitResult, ValidatorService } from '../../../core/interfaces/transport.ts';
import type { MarketValidator } from '../../../core/market/validator-service.ts';

export interface HotkeyTraffic {
  precommits: number;
  /** Reveals received (`/submit` with a receipt of this hotkey), queued or refused. */
  submitted: number;
  /** Groups graded into the pool (by the latest verdict of each group). */
  accepted: number;
  /** Refusals at any stage, by reason code (precommit, reveal, and the latest verdict of each group). */
  rejected: Record<string, number>;
}

interface Slot extends HotkeyTraffic {
  /** Refusals before grading (precommit, reveal). */
  early: Record<string, number>;
  /** Latest verdict per group (merkle root): accepted, or the reason code. */
  graded: Map<string, true | string>;
}

export interface TrafficCounter {
  /** The service to serve (every call forwarded to the wrapped one). */
  readonly service: ValidatorService;
  /** Reads new verdicts of every hotkey seen so far. */
  poll(): Promise<void>;
  /** Counts of `window` by hotkey (empty when nothing arrived). */
  window(window: number): ReadonlyMap<string, HotkeyTraffic>;
  /** One line: submissions so far, accepted, rejected by reason, seconds left. */
  progressLine(window: number, secondsLeft: number): string;
}

const fresh = (): Slot => ({ precommits: 0, submitted: 0, accepted: 0, rejected: {}, early: {}, graded: new Map() });

/** Recomputes `accepted` and `rejected` from the early refusals and the latest verdict of each group. */
function settle(h: Slot): void {
  h.accepted = 0;
  h.rejected = { ...h.early };
  for (const g of h.graded.values()) {
    if (g === true) h.accepted++;
    else h.rejected[g] = (h.rejected[g] ?? 0) + 1;
  }
}

export function trafficCounter(v: MarketValidator): TrafficCounter {
  const byWindow = new Map<number, Map<string, Slot>>();
  const receipts = new Map<string, { hotkey: string; window: number }>();
  const since = new Map<string, number>();
  const slot = (window: number, hotkey: string): Slot => {
    let w = byWindow.get(window);
    if (!w) byWindow.set(window, (w = new Map()));
    let h = w.get(hotkey);
    if (!h) w.set(hotkey, (h = fresh()));
    return h;
  };
  const bump = (h: Slot, reason: string): void => {
    h.early[reason] = (h.early[reason] ?? 0) + 1;
    settle(h);
  };

  const service = new Proxy(v as unknown as ValidatorService, {
    get(target, prop, receiver) {
      if (prop === 'precommit') {
        return async (req: Parameters<ValidatorService['precommit']>[0], arrivalTs: number): Promise<PrecommitResult> => {
          const window = v.window.windowN;
          const r = await target.precommit(req, arrivalTs);
          const h = slot(window, req.miner_hotkey);
          h.precommits++;
          if (!since.has(req.miner_hotkey)) since.set(req.miner_hotkey, 0);
          if (r.ok) receipts.set(r.receipt.receiptId, { hotkey: req.miner_hotkey, window });
          else bump(h, r.rejection.reason);
          return r;
        };
      }
      if (prop === 'submit') {
        return async (upload: Parameters<ValidatorService['submit']>[0]): Promise<SubmitResult> => {
          const r = await target.submit(upload);
          const who = receipts.get(upload.receiptId);
          if (who) {
            const h = slot(who.window, who.hotkey);
            h.submitted++;
            if (!r.ok) bump(h, r.rejection.reason);
          }
          return r;
        };
      }
      const value = Reflect.get(target, prop, receiver) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });

  return {
    service,
    async poll() {
      for (const [hotkey, after] of since) {
        const got = await v.verdicts(hotkey, after);
        let last = after;
        for (const x of got) {
          last = Math.max(last, x.ts);
          if (x.window_n === null || x.window_n === undefined) continue;
          const h = slot(x.window_n, hotkey);
          h.graded.set(x.merkle_root, x.accepted ? true : String(x.reason ?? 'rejected'));
          settle(h);
        }
        since.set(hotkey, last);
      }
    },
    window: (w) => byWindow.get(w) ?? new Map(),
    progressLine(window, secondsLeft) {
      const rows = [...(byWindow.get(window)?.values() ?? [])];
      const submitted = rows.reduce((a, h) => a + h.submitted, 0);
      const accepted = rows.reduce((a, h) => a + h.accepted, 0);
      const rejected: Record<string, number> = {};
      for (const h of rows) for (const [k, n] of Object.entries(h.rejected)) rejected[k] = (rejected[k] ?? 0) + n;
      const rej = Object.entries(rejected).map(([k, n]) => `${k} ${n}`).join(', ');
      return `validator: window ${window} collecting: ${submitted} submission(s) from ${rows.length} miner(s), ${accepted} accepted` +
        `${rej ? `, rejected: ${rej}` : ''}; ${Math.max(0, Math.round(secondsLeft))} s left`;
    },
  };
}
