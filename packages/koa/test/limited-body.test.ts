import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { readLimitedBody } from '../src/http/limited-body.js';

/** A plain node:http server on 127.0.0.1 answering with what readLimitedBody read. */
async function serve(limit: number, rest: 'discard' | 'leave') {
  const server = createServer(async (req, res) => {
    const read = await readLimitedBody(req, limit, rest);
    if (read.kind === 'too_large') {
      if (rest === 'leave') res.setHeader('connection', 'close');
      res.writeHead(413).end('too large');
    } else res.writeHead(200).end(`got ${read.body.length}`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  return { url, close: () => new Promise((resolve) => server.close(resolve)) };
}

describe('readLimitedBody', () => {
  for (const rest of ['discard', 'leave'] as const) {
    it(`reads a body up to the limit and answers 413 past it (rest: ${rest})`, async () => {
      const { url, close } = await serve(1024, rest);
      try {
        const ok = await fetch(url, { method: 'POST', body: 'x'.repeat(1024) });
        expect([ok.status, await ok.text()]).toEqual([200, 'got 1024']);
        const big = await fetch(url, { method: 'POST', body: 'x'.repeat(256 * 1024) });
        expect([big.status, await big.text()]).toEqual([413, 'too large']);
      } finally {
        await close();
      }
    });
  }
});
