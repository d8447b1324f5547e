/** The stats page: the sampler's points as inline SVG charts. */

import { html, type SafeHtml } from '../views/html.js';
import { consolePage } from './layout.js';
import type { StatsPoint } from './stats-sampler.js';
import { lineChart } from './svg-chart.js';

export interface StatsPageInput {
  points: readonly StatsPoint[];
  intervalMs: number;
  csrf?: string;
}

export function statsPage(input: StatsPageInput): SafeHtml {
  const { points } = input;
  const times = points.map((p) => p.at);
  const chart = (title: string, body: SafeHtml) =>
    html`<section class="chart"><h2>${title}</h2>${body}</section>`;
  const per = input.intervalMs === 60_000 ? 'per minute' : `per ${Math.round(input.intervalMs / 1000)} s`;
  const charts =
    points.length === 0
      ? html`<p class="meta">No sample yet: the first point appears ${Math.round(input.intervalMs / 1000)} s after the server started.</p>`
      : html`<div class="charts">
${chart(
  'Active tokens and sessions',
  lineChart(times, [
    { label: 'tokens', color: '#1f5fd1', values: points.map((p) => p.activeTokens) },
    { label: 'sessions', color: '#2e7d32', values: points.map((p) => p.activeSessions) },
  ]),
)}
${chart(`Validations ${per}`, lineChart(times, [{ label: 'validations', color: '#1f5fd1', values: points.map((p) => p.validations) }]))}
${chart('Hit rate (%)', lineChart(times, [{ label: 'hit rate', color: '#6a1b9a', values: points.map((p) => p.hitRate) }], 100))}
${chart(
  `Logins ${per}`,
  lineChart(times, [
    { label: 'ok', color: '#2e7d32', values: points.map((p) => p.logins) },
    { label: 'refused', color: '#c62828', values: points.map((p) => p.failedLogins) },
  ]),
)}
${chart(
  `401 / 403 / 503 ${per}`,
  lineChart(times, [
    { label: '401', color: '#ef6c00', values: points.map((p) => p.status401) },
    { label: '403', color: '#c62828', values: points.map((p) => p.status403) },
    { label: '503', color: '#6d4c41', values: points.map((p) => p.status503) },
  ]),
)}
</div>`;
  return consolePage(
    'Stats',
    html`<h1>Stats of this instance</h1>
<p class="meta">Sampled ${per} from the <code>/metrics</code> registry; the last ${points.length} points.</p>
${charts}`,
    { section: 'stats', ...(input.csrf ? { csrf: input.csrf } : {}) },
  );
}
