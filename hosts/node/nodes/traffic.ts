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
  /** Groups graded into the pool. */
  accepted: number;
  /** Refusals at any stage, by reason. */
  rejected: Record<string, number>;
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

const fresh = (): HotkeyTraffic => ({ precommits: 0, submitted: 0, accepted: 0, rejected: {} });

export function trafficCounter(v: MarketValidator): TrafficCounter {
  const byWindow = new Map<number, Map<string, HotkeyTraffic>>();
  const receipts = new Map<string, { hotkey: string; window: number }>();
  const since = new Map<string, number>();
  const slot = (window: number, hotkey: string): HotkeyTraffic => {
    let w = byWindow.get(window);
    if (!w) byWindow.set(window, (w = new Map()));
    let h = w.get(hotkey);
    if (!h) w.set(hotkey, (h = fresh()));
    return h;
  };
  const bump = (h: HotkeyTraffic, reason: string): void => void (h.rejected[reason] = (h.rejected[reason] ?? 0) + 1);

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
          if (x.accepted && x.accepted_into_pool !== false) h.accepted++;
          else if (!x.accepted) bump(h, x.reject_reason ?? x.reason ?? 'rejected');
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
