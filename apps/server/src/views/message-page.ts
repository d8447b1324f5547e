/** Error and notice pages (never a redirect). */
import { html, page, type SafeHtml } from './html.js';

/** A page telling the user what went wrong and what to do. */
export function messagePage(title: string, message: string, detail?: string): SafeHtml {
  return page(
    title,
    html`<h1>${title}</h1>
<p>${message}</p>
${detail ? html`<p class="meta">${detail}</p>` : ''}`,
  );
}
