/** Error and notice pages (never a redirect). */
import { escapeHtml, page } from './html.js';

/** A page telling the user what went wrong and what to do. */
export function messagePage(title: string, message: string, detail?: string): string {
  return page(
    title,
    `<h1>${escapeHtml(title)}</h1>
<p>${escapeHtml(message)}</p>
${detail ? `<p class="meta">${escapeHtml(detail)}</p>` : ''}`,
  );
}
