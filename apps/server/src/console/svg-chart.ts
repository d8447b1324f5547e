/**
 * A line chart as inline SVG markup: a polyline per series over a shared time axis. Sixty points
 * need no chart library, and markup keeps the page script-free under the same strict CSP as the
 * login page (`default-src 'none'`).
 */
import { html, joinHtml, type SafeHtml } from '../views/html.js';

export interface ChartSeries {
  label: string;
  color: string;
  /** One value per point; `undefined` leaves a gap. */
  values: ReadonlyArray<number | undefined>;
}

const WIDTH = 320;
const HEIGHT = 120;
const PAD_LEFT = 34;
const PAD_BOTTOM = 16;

/** An SVG chart of `series` over `times` (epoch ms), y from 0 to the largest value (or `max`). */
export function lineChart(times: readonly number[], series: readonly ChartSeries[], max?: number): SafeHtml {
  const all = series.flatMap((s) => s.values.filter((v): v is number => v !== undefined));
  const top = max ?? niceMax(Math.max(0, ...all));
  const plotW = WIDTH - PAD_LEFT - 4;
  const plotH = HEIGHT - PAD_BOTTOM - 6;
  const x = (i: number) => PAD_LEFT + (times.length <= 1 ? plotW : (i / (times.length - 1)) * plotW);
  const y = (v: number) => 6 + plotH - (top === 0 ? 0 : (v / top) * plotH);
  const lines = series.map((s) => {
    // A gap (undefined) splits the line into segments.
    const segments: string[][] = [[]];
    s.values.forEach((v, i) => {
      if (v === undefined) segments.push([]);
      else segments.at(-1)?.push(`${x(i).toFixed(1)},${y(v).toFixed(1)}`);
    });
    return segments
      .filter((points) => points.length > 0)
      .map((points) =>
        points.length === 1
          ? html`<circle cx="${points[0]?.split(',')[0]}" cy="${points[0]?.split(',')[1]}" r="2" fill="${s.color}"/>`
          : html`<polyline fill="none" stroke="${s.color}" stroke-width="1.6" points="${points.join(' ')}"/>`,
      );
  });
  const first = times[0];
  const last = times.at(-1);
  const axis = html`<line x1="${PAD_LEFT}" y1="${6 + plotH}" x2="${WIDTH - 4}" y2="${6 + plotH}" stroke="#b9c0cc"/>
<line x1="${PAD_LEFT}" y1="6" x2="${PAD_LEFT}" y2="${6 + plotH}" stroke="#b9c0cc"/>
<text x="${PAD_LEFT - 3}" y="12" font-size="9" text-anchor="end" fill="#5b6475">${formatValue(top)}</text>
<text x="${PAD_LEFT - 3}" y="${6 + plotH}" font-size="9" text-anchor="end" fill="#5b6475">0</text>
${first !== undefined ? html`<text x="${PAD_LEFT}" y="${HEIGHT - 3}" font-size="9" fill="#5b6475">${clock(first)}</text>` : ''}
${last !== undefined ? html`<text x="${WIDTH - 4}" y="${HEIGHT - 3}" font-size="9" text-anchor="end" fill="#5b6475">${clock(last)} UTC</text>` : ''}`;
  const legend = joinHtml(
    series.map((s) => {
      const latest = [...s.values].reverse().find((v) => v !== undefined);
      return html`<span style="color:${s.color}">&#9632;</span> ${s.label}: <strong>${latest === undefined ? '-' : formatValue(latest)}</strong>`;
    }),
    html` &nbsp; `,
  );
  const title = series.map((s) => s.label).join(', ');
  return html`<svg viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" aria-label="${title}" xmlns="http://www.w3.org/2000/svg">${axis}${lines}</svg>
<div class="meta">${legend}</div>`;
}

/** 1, 2, 5 x 10^n at or above `value` (at least 1). */
function niceMax(value: number): number {
  if (value <= 1) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}

function formatValue(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(1);
}

function clock(ms: number): string {
  return new Date(ms).toISOString().slice(11, 16);
}
