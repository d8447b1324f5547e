/**
 * Minimal server-side HTML: every interpolated value goes through {@link escapeHtml}; pages carry
 * no script at all and forbid framing (clickjacking on a password form).
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

const STYLE = `
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
`;

/**
 * A complete HTML document. `body` must already be escaped markup; `extraStyle` (a constant, never
 * user data) is appended to the shared style sheet (the operator console's tables).
 */
export function page(title: string, body: string, extraStyle = ''): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin">
<title>${escapeHtml(title)}</title>
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
export function sendHtml(ctx: Context, status: number, html: string): void {
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
  ctx.body = html;
}
