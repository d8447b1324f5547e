/**
 * Between Koa and the MCP SDK v2's web-standard face (`Request` in, `Response` out), without the
 * SDK's Node adapter package: the route has already read and size-checked the body, so the
 * `Request` carries only the method, the headers and an abort signal, and the body goes to the
 * SDK parsed.
 */
import { Readable } from 'node:stream';
import type { Context } from 'koa';

/** The request's method and headers as a web `Request` for `url`, aborted by `signal`. */
export function toWebRequest(ctx: Context, url: string, signal: AbortSignal): Request {
  const headers = new Headers();
  for (const [name, value] of Object.entries(ctx.req.headers)) {
    if (value === undefined) continue;
    for (const one of Array.isArray(value) ? value : [value]) headers.append(name, one);
  }
  return new Request(url, { method: ctx.method, headers, signal });
}

/**
 * Answers `ctx` with `response`: its status and headers; a JSON body whole (Koa sets its
 * length), an event stream piped as it comes.
 */
export async function sendWebResponse(ctx: Context, response: Response): Promise<void> {
  ctx.status = response.status;
  response.headers.forEach((value, name) => {
    if (name !== 'content-length') ctx.set(name, value);
  });
  const streaming = (response.headers.get('content-type') ?? '').startsWith('text/event-stream');
  if (streaming && response.body) {
    ctx.body = Readable.fromWeb(response.body);
    return;
  }
  const bytes = Buffer.from(await response.arrayBuffer());
  ctx.body = bytes;
  // An empty answer (202 to a notification) has no content type: not Koa's octet-stream default.
  if (bytes.length === 0) ctx.remove('Content-Type');
}
