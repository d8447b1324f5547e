import type { IncomingMessage } from 'node:http';

/** What {@link readLimitedBody} read: the whole body, or the news that it is over the limit. */
export type LimitedBody = { kind: 'complete'; body: Buffer } | { kind: 'too_large' };

/**
 * Read a request body, at most `limitBytes` of it, without a body-parser. Past the limit, reading
 * stops and the rest is either `'discard'`ed (read and dropped, so the connection can still carry
 * the 413 answer) or `'leave'`-d unread with the stream paused (the caller answers 413 and closes the
 * connection, so an oversized upload is never read to its end). Not `for await`, whose early exit
 * would destroy the socket before any answer is sent. Rejects when the stream fails or the client
 * aborts.
 */
export function readLimitedBody(
  req: IncomingMessage,
  limitBytes: number,
  rest: 'discard' | 'leave',
): Promise<LimitedBody> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('aborted', onAborted);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limitBytes) {
        chunks.push(chunk);
        return;
      }
      cleanup();
      if (rest === 'discard') req.resume();
      else req.pause();
      resolve({ kind: 'too_large' });
    };
    const onEnd = () => {
      cleanup();
      resolve({ kind: 'complete', body: Buffer.concat(chunks) });
    };
    const onError = (error: Error) => {
      cleanup();
      reject(error);
    };
    const onAborted = () => onError(new Error('aborted'));
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('aborted', onAborted);
  });
}
