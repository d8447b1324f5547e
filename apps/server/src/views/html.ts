/**
 * Minimal server-side HTML: markup is built only with the {@link html} tagged template, which escapes
 * every interpolated value; pages carry no script at all and forbid framing (clickjacking on a
 * password form).
 */
import type { Context } from 'koa';

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
  '`': '&#96;',
};

/** Escape text for element content and double-quoted attribute values. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"'`]/g, (c) => ESCAPES[c] ?? c);
}

// Why a tagged template rather than `escapeHtml(...)` around each value: one forgotten call is an
// XSS, and these pages show what clients declare themselves (the login page's client name and
// redirect origin, the console's client names, redirect hosts, logins and event fields). With `html`
// escaping is the default and skipping it takes a visible `unsafeRaw`.

/** Guards the {@link SafeHtml} constructor: only this module can create one. */
const MINT: unique symbol = Symbol('SafeHtml');

/**
 * Markup that is already safe to send: the result of {@link html} or of {@link unsafeRaw}. Branded
 * by a private field (checked with `#markup in value`, not by shape or prototype), so a look-alike,
 * such as a plain object with a `toString` or one made from `SafeHtml.prototype`, is never trusted
 * as markup: {@link html} escapes it as text.
 */
export class SafeHtml {
  readonly #markup: string;

  /** Not for use outside this module: call {@link html} or {@link unsafeRaw}. */
  constructor(markup: string, mint: typeof MINT) {
    if (mint !== MINT) throw new TypeError('SafeHtml is created by html`...` or unsafeRaw()');
    this.#markup = markup;
  }

  /** Whether `value` is a genuine SafeHtml (brand check on the private field, not duck typing). */
  static is(value: unknown): value is SafeHtml {
    return typeof value === 'object' && value !== null && #markup in value;
  }

  /** The markup. */
  toString(): string {
    return this.#markup;
  }
}

/**
 * What {@link html} accepts between `${...}`: text (escaped), numbers (`String()`), {@link SafeHtml}
 * (as is), `undefined` / `null` / `false` (nothing) and arrays of these (each by the same rule, joined
 * with nothing between).
 */
export type HtmlValue = SafeHtml | string | number | false | null | undefined | readonly HtmlValue[];

function render(value: unknown): string {
  if (value === undefined || value === null || value === false) return '';
  if (Array.isArray(value)) return value.map(render).join('');
  if (SafeHtml.is(value)) return value.toString();
  if (typeof value === 'number') return String(value);
  return escapeHtml(String(value));
}

/**
 * The auto-escaping tagged template: `` html`<td>${name}</td>` ``. The literal parts are markup; every
 * interpolated value is escaped with {@link escapeHtml} (element content and double-quoted
 * attribute values alike) unless it is a {@link SafeHtml}, so nested `html` results are not escaped
 * twice. Escaping is not URL encoding: path and query parts of an `href` built from data still go
 * through `encodeURIComponent` first.
 */
export function html(strings: TemplateStringsArray, ...values: readonly HtmlValue[]): SafeHtml {
  let out = strings[0] ?? '';
  for (let i = 0; i < values.length; i++) out += render(values[i]) + (strings[i + 1] ?? '');
  return new SafeHtml(out, MINT);
}

/**
 * Trust `markup` as is. Only for constant strings of this code base (the style sheets); never for
 * anything that comes from a request, a client record, the store or the environment.
 */
export function unsafeRaw(markup: string): SafeHtml {
  return new SafeHtml(markup, MINT);
}

/** `items` joined with `separator` (markup, e.g. `` html`\n` ``); each item by {@link html}'s rule. */
export function joinHtml(items: readonly HtmlValue[], separator: SafeHtml): SafeHtml {
  return new SafeHtml(items.map(render).join(separator.toString()), MINT);
}

const STYLE = unsafeRaw(`
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:#f4f5f7;color:#1d2330;margin:0}
main{max-width:26rem;margin:8vh auto;background:#fff;border-radius:10px;box-shadow:0 2px 12px rgba(0,0,0,.08);padding:2rem}
h1{font-size:1.35rem;margin:0 0 1rem}
p{line-height:1.45}
label{display:block;margin:.9rem 0 .3rem;font-weight:600}
input[type=text],input[type=password]{width:100%;box-sizing:border-box;padding:.6rem;border:1px solid #b9c0cc;border-radius:6px;font-size:1rem}
.actions{display:flex;gap:.6rem;margin-top:1.4rem}
button{flex:1;padding:.7rem;border-radius:6px;border:0;font-size:1rem;cursor:pointer}
button.primary{background:#1f5fd1;color:#fff}
button.secondary{background:#e3e6eb;color:#1d2330}
.error{background:#fdecec;color:#8a1c1c;border-radius:6px;padding:.7rem;margin:1rem 0}
.meta{color:#5b6475;font-size:.9rem}
.lead{margin:0 0 .3rem;color:#3a4252}
h1.origin{font-size:1.5rem;word-break:break-all;margin:0 0 .8rem;font-weight:400}
h1.origin strong{font-weight:800;color:#000}
.tag{display:inline-block;background:#eef0f4;color:#3a4252;border-radius:4px;padding:0 .35rem;font-size:.8rem;font-weight:600}
.warning{background:#fff4d6;color:#5a4100;border:1px solid #e8c66a;border-radius:6px;padding:.7rem;margin:1rem 0}
code{word-break:break-all}
`);

/**
 * A complete HTML document around `body`; `extraStyle` (a constant, never user data) is appended to
 * the shared style sheet (the operator console's tables).
 */
export function page(title: string, body: SafeHtml, extraStyle: SafeHtml = html``): SafeHtml {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin">
<title>${title}</title>
<style>${STYLE}${extraStyle}</style>
</head>
<body>
<main>
${body}
</main>
</body>
</html>
`;
}

/** Send an HTML page with headers that keep it out of caches and frames. */
export function sendHtml(ctx: Context, status: number, markup: SafeHtml): void {
  ctx.status = status;
  ctx.type = 'text/html; charset=utf-8';
  ctx.set('Cache-Control', 'no-store');
  ctx.set('Pragma', 'no-cache');
  ctx.set('X-Frame-Options', 'DENY');
  ctx.set('X-Content-Type-Options', 'nosniff');
  // same-origin, not no-referrer: with no-referrer browsers send `Origin: null` on the login POST,
  // which the cross-site check must then refuse. Other sites still get no Referer.
  ctx.set('Referrer-Policy', 'same-origin');
  // No form-action: Chromium applies it to the redirect after the POST, which goes to the client.
  ctx.set(
    'Content-Security-Policy',
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'; base-uri 'none'",
  );
  ctx.body = String(markup);
}
