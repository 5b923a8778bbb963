/**
 * The validator dashboard page (served at `/`): polls `/dashboard.json` (core/validator/dashboard.ts) every second
 * and redraws in place — the windows as a timeline (state, seal trigger, collect/proof/train seconds), submitted vs
 * accepted split by reject reason, winners and payouts per miner with their in-zone share, each published checkpoint
 * with its held-out pass@1, the chain weights, and the follower validators' acceptance spread per window. Before the first window seals every panel says what will appear.
 */
import type { DashboardSnapshot } from '../../../core/validator/dashboard.ts';
import { LineChart } from './charts.ts';

const $ = (id: string): HTMLElement => document.getElementById(id)!;
const esc = (s: string): string => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
const short = (h: string): string => `${h.slice(0, 8)}…`;
const f3 = (x: number): string => x.toFixed(3);
const PALETTE = ['#b42318', '#b54708', '#6941c6', '#026aa2', '#c11574', '#4e5ba6', '#667085'];

function table(id: string, head: readonly string[], rows: readonly string[][], empty: string, numeric: ReadonlySet<number> = new Set()): void {
  const th = head.map((h, i) => `<th${numeric.has(i) ? ' class="num"' : ''}>${esc(h)}</th>`).join('');
  const body = rows.length
    ? rows.map((r) => `<tr>${r.map((c, i) => `<td${numeric.has(i) ? ' class="num"' : ''}>${c}</td>`).join('')}</tr>`).join('')
    : `<tr><td colspan="${head.length}" class="empty">${esc(empty)}</td></tr>`;
  $(id).innerHTML = `<thead><tr>${th}</tr></thead><tbody>${body}</tbody>`;
}

const timelineChart = new LineChart($('timeline-chart'), 'window', 'seconds');
const rejectsChart = new LineChart($('rejects-chart'), 'window', 'groups');
const ckptChart = new LineChart($('ckpt-chart'), 'checkpoint', 'held-out pass@1');

function render(d: DashboardSnapshot): void {
  const ws = d.windows;
  $('live').textContent = d.live ? `window ${d.live.window} · ${d.live.phase} · ${ws.length} sealed` : 'no live state';
  document.body.dataset['sealed'] = String(ws.length);
  const NOT_YET = 'No window has sealed yet: each window appears here when it seals.';

  // Timeline
  const xs = ws.map((w) => w.window);
  timelineChart.update(
    [{ label: 'collect', color: '#026aa2' }, { label: 'proof', color: '#6941c6' }, { label: 'train', color: '#b54708' }],
    xs, [ws.map((w) => w.seconds.collect), ws.map((w) => w.seconds.proof), ws.map((w) => w.seconds.train)],
  );
  const live = d.live && !ws.some((w) => w.window === d.live!.window) && d.live.phase !== 'ready'
    ? [[String(d.live.window), `<b>${esc(d.live.phase)}</b>`, '-', '-', '-', '-', '-', '-', '-', '-']] : [];
  table('timeline', ['window', 'state', 'seal trigger', 'collect s', 'proof s', 'train s', 'accepted / submitted', 'winners', 'published', 'loss'],
    [...live, ...[...ws].reverse().map((w) => [
      String(w.window), `<span class="${w.status === 'completed' ? 'ok' : 'bad'}">${w.status}</span>${w.failure ? ` <small>${esc(w.failure)}</small>` : ''}`,
      esc(w.trigger), w.seconds.collect.toFixed(1), w.seconds.proof.toFixed(1), w.seconds.train.toFixed(1),
      `${w.accepted} / ${w.submitted}`, String(w.winners), w.published ? `#${w.published.checkpointN}` : '-', w.loss === null ? '-' : f3(w.loss),
    ])], NOT_YET, new Set([0, 3, 4, 5, 6, 7]));

  // Submitted vs accepted by reject reason
  const reasons = [...new Set(ws.flatMap((w) => Object.keys(w.rejects)))].sort();
  rejectsChart.update(
    [{ label: 'submitted', color: '#98a2b3', bars: true }, { label: 'accepted', color: '#1a7f37', bars: true },
      ...reasons.map((r, i) => ({ label: r, color: PALETTE[i % PALETTE.length]! }))],
    xs, [ws.map((w) => w.submitted), ws.map((w) => w.accepted), ...reasons.map((r) => ws.map((w) => w.rejects[r] ?? 0))],
  );
  table('rejects', ['window', 'submitted', 'accepted', ...reasons], [...ws].reverse().map((w) => [
    String(w.window), String(w.submitted), String(w.accepted), ...reasons.map((r) => String(w.rejects[r] ?? 0)),
  ]), NOT_YET, new Set(Array.from({ length: reasons.length + 3 }, (_, i) => i)));

  // Checkpoints
  const cs = d.checkpoints;
  ckptChart.update([{ label: 'pass@1', color: '#1a7f37', spanGaps: true }], cs.map((c) => c.checkpointN), [cs.map((c) => c.passAt1)]);
  table('checkpoints', ['checkpoint', 'revision', 'window', 'held-out pass@1'], [...cs].reverse().map((c) => [
    `#${c.checkpointN}`, c.revision ? `<span class="mono">${c.revision.slice(0, 12)}</span>` : '-', c.window === null ? 'base' : String(c.window),
    c.passAt1 === null ? 'not measured' : `${f3(c.passAt1)} (${c.problems} problems)`,
  ]), 'No checkpoint published yet: one appears after each trained window.', new Set([3]));

  // Miners
  table('miners', ['hotkey', 'submitted', 'in pool', 'in-zone share', 'won', 'earned', 'weight'], d.miners.map((m) => [
    `<span class="mono" title="${esc(m.hotkey)}">${short(m.hotkey)}</span>`, String(m.submitted), String(m.accepted), f3(m.inZoneShare),
    String(m.won), m.earned.toFixed(4), m.weight.toFixed(4),
  ]), 'No miner has submitted yet.', new Set([1, 2, 3, 4, 5, 6]));

  // Follower validators: cross-validator acceptance spread
  table('followers', ['window', 'follower', 'proved groups', 'leader accepted', 'follower accepted', 'spread', 'agreement', 'flagged'],
    [...d.followers].reverse().map((f) => [
      String(f.window), `<span class="mono" title="${esc(f.follower)}">${short(f.follower)}</span>`, String(f.groups), String(f.leaderAccepted),
      String(f.followerAccepted), `${(f.spread * 100).toFixed(1)} %`, `<span class="${f.agreement === 1 ? 'ok' : 'bad'}">${(f.agreement * 100).toFixed(1)} %</span>`,
      f.flagged.length ? f.flagged.map((id) => `<span class="mono bad">${esc(id.slice(0, 10))}</span>`).join(' ') : '-',
    ]), 'No follower validator has published verdicts on these windows.', new Set([0, 2, 3, 4, 5, 6]));

  // Chain weights
  const wt = d.weights;
  table('weights', ['hotkey', 'weight'], wt ? [
    ...Object.entries(wt.byHotkey).sort((a, b) => b[1] - a[1]).map(([h, x]) => [`<span class="mono" title="${esc(h)}">${short(h)}</span>`, x.toFixed(4)]),
    ['burn (validator uid)', wt.burn.toFixed(4)],
  ] : [], 'No weights set on the chain yet: the validator sets them after each sealed window.', new Set([1]));
}

let lastVersion = -1;
let lastJson = '';
async function poll(): Promise<void> {
  try {
    const r = await fetch('/dashboard.json', { cache: 'no-store' });
    const text = await r.text();
    if (text !== lastJson) {
      lastJson = text;
      const d = JSON.parse(text) as DashboardSnapshot;
      lastVersion = d.version;
      render(d);
    }
  } catch {
    $('live').textContent = 'validator unreachable; retrying…';
  }
  document.body.dataset['version'] = String(lastVersion);
  setTimeout(poll, 1000);
}
void poll();
