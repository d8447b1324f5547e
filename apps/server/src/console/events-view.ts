/** The recent security events page: a type filter (a GET form) and a table, newest first. */
import { html, joinHtml, type SafeHtml } from '../views/html.js';
import type { ConsoleEvent } from './event-ring.js';
import { consolePage, timeCell } from './layout.js';

/** Most rows rendered (the ring holds more; filter to see older ones of one type). */
export const EVENTS_SHOWN = 200;

export interface EventsPageInput {
  events: ConsoleEvent[];
  /** Every type the ring holds (the filter's choices). */
  types: string[];
  selected: ReadonlySet<string>;
  csrf?: string;
  now: number;
}

export function eventsPage(input: EventsPageInput): SafeHtml {
  const choices = [...new Set([...input.types, ...input.selected])].sort();
  const boxes = joinHtml(
    choices.map(
      (type) =>
        html`<label><input type="checkbox" name="type" value="${type}"${input.selected.has(type) ? html` checked` : ''}> ${type}</label>`,
    ),
    html`\n`,
  );
  const shown = input.events.slice(0, EVENTS_SHOWN);
  const rows = joinHtml(
    shown.map(
      (e) => html`<tr class="${e.level}">
${timeCell(e.at, input.now)}
<td><code>${e.type}</code></td>
<td>${e.user ?? ''}</td>
<td>${e.clientId ?? ''}</td>
<td>${e.address ?? ''}</td>
<td>${[e.reason, e.actor ? `by ${e.actor}` : undefined, e.path].filter(Boolean).join('; ')}</td>
</tr>`,
    ),
    html`\n`,
  );
  return consolePage(
    'Events',
    html`<h1>Recent security events</h1>
<p class="meta">The last events of this instance (kept in memory, newest first; the log holds them all).</p>
<form method="get" action="/console/events">
<fieldset><legend>Types</legend>
${choices.length > 0 ? boxes : html`<span class="meta">No events yet.</span>`}
</fieldset>
<div class="actions"><button type="submit" class="primary">Filter</button><a class="button" href="/console/events">All types</a></div>
</form>
<table id="events">
<thead><tr><th>When</th><th>Type</th><th>User</th><th>Client</th><th>Address</th><th>Detail</th></tr></thead>
<tbody>
${shown.length > 0 ? rows : html`<tr><td colspan="6">No events.</td></tr>`}
</tbody>
</table>`,
    { section: 'events', ...(input.csrf ? { csrf: input.csrf } : {}) },
  );
}
