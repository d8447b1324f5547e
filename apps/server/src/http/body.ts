/**
 * Reading request bodies with a hard size limit, without a body-parser dependency: the token and
 * authorize endpoints need every duplicate parameter (RFC 6749 §3.1), which common parsers merge
 * or drop.
 */
import { type LimitedBody, readLimitedBody } from '@oauth-cache/koa';
import type { Context } from 'koa';

/** A request the server refuses before looking at its content (size, type, encoding). */
export class BodyError extends Error {
  readonly status: number;
  readonly description: string;
  constructor(status: number, description: string) {
    super(description);
    this.name = 'BodyError';
    this.status = status;
    this.description = description;
  }
}

/** Shortest time a body may take to arrive: the whole of a small (token, login) body, 10 s. */
export const MIN_BODY_TIMEOUT_MS = 10_000;
/** Slowest rate a large body may arrive at: 64 KiB/s (a 4 MiB MCP call gets 64 s). */
const MIN_BODY_BYTES_PER_SECOND = 64 * 1024;

/**
 * Time allowed to read a body of at most `limit` bytes: a client sending one byte every few
 * seconds (under Node's per-request timeout) must not hold a connection and a handler for minutes.
 */
export function bodyTimeoutMs(limit: number): number {
  return Math.max(MIN_BODY_TIMEOUT_MS, Math.ceil((limit / MIN_BODY_BYTES_PER_SECOND) * 1000));
}

/**
 * The body as bytes; throws {@link BodyError} 413 beyond `limit` bytes, 415 for compressed bodies,
 * 408 (and closes the connection) when the body takes longer than {@link bodyTimeoutMs} to arrive.
 */
export async function readBody(ctx: Context, limit: number): Promise<Buffer> {
  const encoding = ctx.get('content-encoding').trim().toLowerCase();
  if (encoding !== '' && encoding !== 'identity') {
    throw new BodyError(415, 'compressed request bodies are not accepted');
  }
  const declared = ctx.get('content-length');
  if (declared !== '' && (!/^\d+$/.test(declared) || Number(declared) > limit)) {
    throw new BodyError(/^\d+$/.test(declared) ? 413 : 400, `request body larger than ${limit} bytes`);
  }
  return collect(ctx, limit);
}

async function collect(ctx: Context, limit: number): Promise<Buffer> {
  let read: LimitedBody | 'timeout';
  const timeoutMs = bodyTimeoutMs(limit);
  let timer: NodeJS.Timeout | undefined;
  // The rest of an oversized body is discarded, not left unread: the 413 still gets through.
  const reading = readLimitedBody(ctx.req, limit, 'discard');
  // After a timeout the read fails when the connection closes: nobody awaits it any more.
  reading.catch(() => undefined);
  try {
    read = await Promise.race([
      reading,
      new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), timeoutMs);
      }),
    ]);
  } catch (error) {
    throw new BodyError(400, `the request body could not be read (${(error as Error).name})`);
  } finally {
    clearTimeout(timer);
  }
  if (read === 'timeout') {
    // The rest of the body is not waited for: answer and drop the connection.
    ctx.set('Connection', 'close');
    throw new BodyError(
      408,
      `the request body did not arrive within ${Math.round(timeoutMs / 1000)} seconds`,
    );
  }
  if (read.kind === 'too_large') throw new BodyError(413, `request body larger than ${limit} bytes`);
  return read.body;
}

/** The media type of the request without parameters, lower-cased (`''` when absent). */
export function mediaType(ctx: Context): string {
  return (ctx.get('content-type').split(';', 1)[0] ?? '').trim().toLowerCase();
}

/** An `application/x-www-form-urlencoded` body as parameters (duplicates kept). */
export async function readForm(ctx: Context, limit: number): Promise<URLSearchParams> {
  if (mediaType(ctx) !== 'application/x-www-form-urlencoded') {
    throw new BodyError(400, 'expected Content-Type: application/x-www-form-urlencoded');
  }
  const body = await readBody(ctx, limit);
  return new URLSearchParams(body.toString('utf8'));
}

/** A JSON body; throws {@link BodyError} 400 for another media type or malformed JSON. */
export async function readJson(ctx: Context, limit: number): Promise<unknown> {
  const type = mediaType(ctx);
  if (type !== 'application/json' && !type.endsWith('+json')) {
    throw new BodyError(400, 'expected Content-Type: application/json');
  }
  const body = await readBody(ctx, limit);
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    throw new BodyError(400, 'the request body is not valid JSON');
  }
}
