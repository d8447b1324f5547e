/**
 * The SSRF-hardened fetch against a real https server on 127.0.0.1. Refused addresses are mapped by
 * the `resolveHost` hook; every refusal must happen before a connection exists, which the tests
 * check on both ends: no socket of this process emits `connect`, and the server accepted nothing.
 */
import { channel } from 'node:diagnostics_channel';
import type { LookupAddress } from 'node:dns';
import type { Socket } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SafeFetchError, type SafeFetchOptions, safeFetchJson } from '../src/index.js';
import { type DocServer, jsonDocument, makeTestCertificate, startDocServer } from './tls-doc-server.js';

let tls: ReturnType<typeof makeTestCertificate>;
let server: DocServer;
/** `connect` events of every client socket this process opened since the last reset. */
let connects = 0;
const onSocket = (message: unknown) => {
  (message as { socket: Socket }).socket.once('connect', () => {
    connects += 1;
  });
};

beforeAll(async () => {
  tls = makeTestCertificate();
  server = await startDocServer(tls);
  channel('net.client.socket').subscribe(onSocket);
  server.route('/client.json', jsonDocument({ hello: 'world' }, { 'cache-control': 'max-age=120' }));
  server.route('/redirect', (_req, res) => {
    res.writeHead(302, { location: `https://cimd.test:${server.port}/client.json` }).end();
  });
  server.route('/big', (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ padding: 'x'.repeat(6 * 1024) }));
  });
  server.route('/big-chunked', (_req, res) => {
    // No Content-Length: the limit must hold while streaming.
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    for (let i = 0; i < 12; i += 1) res.write('x'.repeat(512));
    res.end();
  });
  server.route('/slow', (_req, res) => {
    const timer = setTimeout(() => jsonDocument({ late: true })(_req, res), 3000);
    res.on('close', () => clearTimeout(timer));
  });
  server.route('/html', (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' }).end('<p>hi</p>');
  });
});
afterAll(async () => {
  channel('net.client.socket').unsubscribe(onSocket);
  await server?.close();
});
beforeEach(() => {
  connects = 0;
});

/** A resolver mapping every host to `addresses`, counting its calls. */
function mapTo(...addresses: string[]) {
  const resolver = async (_host: string): Promise<LookupAddress[]> => {
    resolver.calls += 1;
    return addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
  resolver.calls = 0;
  return resolver;
}

function url(path: string): string {
  return `https://cimd.test:${server.port}${path}`;
}

async function failure(target: string, options: SafeFetchOptions): Promise<SafeFetchError> {
  const error = await safeFetchJson(target, options).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SafeFetchError);
  return error as SafeFetchError;
}

describe('safeFetchJson', () => {
  it('fetches a JSON document over https from an allowed address', async () => {
    const result = await safeFetchJson(url('/client.json'), {
      allowLoopback: true,
      resolveHost: mapTo('127.0.0.1'),
      ca: tls.cert,
    });
    expect(JSON.parse(result.body)).toEqual({ hello: 'world' });
    expect(result.cacheControl).toBe('max-age=120');
  });

  it.each([
    ['loopback (no allowLoopback)', '127.0.0.1'],
    ['private 10/8', '10.0.0.1'],
    ['cloud metadata 169.254.169.254', '169.254.169.254'],
    ['private 192.168/16', '192.168.1.1'],
    ['IPv6 loopback', '::1'],
    ['IPv4-mapped IPv6 private', '::ffff:10.0.0.1'],
    ['unique local IPv6', 'fd00::1'],
  ])('refuses a host resolving to %s before connecting', async (_name, address) => {
    const resolver = mapTo(address);
    const before = server.connections;
    const error = await failure(url('/client.json'), { resolveHost: resolver, ca: tls.cert });
    expect(error.reason).toBe('ssrf');
    expect(resolver.calls).toBe(1);
    expect(connects).toBe(0);
    expect(server.connections).toBe(before);
  });

  it('refuses the whole answer when any one resolved address is refused (rebinding)', async () => {
    const resolver = mapTo('93.184.215.14', '127.0.0.1');
    const error = await failure(url('/client.json'), { resolveHost: resolver, ca: tls.cert });
    expect(error.reason).toBe('ssrf');
    expect(connects).toBe(0);
  });

  it('refuses IP-literal hosts in special-use ranges without a lookup', async () => {
    const before = server.connections;
    for (const host of ['127.0.0.1', '10.0.0.1', '169.254.169.254', '[::1]']) {
      const error = await failure(`https://${host}:${server.port}/client.json`, { ca: tls.cert });
      expect(error.reason).toBe('ssrf');
    }
    expect(connects).toBe(0);
    expect(server.connections).toBe(before);
  });

  it('refuses plain http and credentials in the URL', async () => {
    expect((await failure(`http://cimd.test:${server.port}/client.json`, {})).reason).toBe('url');
    expect((await failure(`https://u:p@cimd.test:${server.port}/client.json`, {})).reason).toBe('url');
    expect(connects).toBe(0);
  });

  it('does not follow a redirect', async () => {
    const before = server.hits.get('/client.json') ?? 0;
    const error = await failure(url('/redirect'), {
      allowLoopback: true,
      resolveHost: mapTo('127.0.0.1'),
      ca: tls.cert,
    });
    expect(error.reason).toBe('redirect');
    expect(error.status).toBe(302);
    expect(server.hits.get('/client.json') ?? 0).toBe(before);
  });

  it('refuses a document larger than 5 KiB, declared or streamed', async () => {
    const options = { allowLoopback: true, resolveHost: mapTo('127.0.0.1'), ca: tls.cert };
    expect((await failure(url('/big'), options)).reason).toBe('too_large');
    expect((await failure(url('/big-chunked'), options)).reason).toBe('too_large');
  });

  it('gives up on a document slower than 2.5 s', async () => {
    // The document would arrive after 3 s and succeed: a timeout failure proves the deadline held.
    const error = await failure(url('/slow'), {
      allowLoopback: true,
      resolveHost: mapTo('127.0.0.1'),
      ca: tls.cert,
    });
    expect(error.reason).toBe('timeout');
  });

  it('refuses non-JSON answers, error statuses and untrusted certificates', async () => {
    const options = { allowLoopback: true, resolveHost: mapTo('127.0.0.1'), ca: tls.cert };
    expect((await failure(url('/html'), options)).reason).toBe('content_type');
    const missing = await failure(url('/missing'), options);
    expect(missing.reason).toBe('status');
    expect(missing.status).toBe(404);
    const untrusted = await failure(url('/client.json'), {
      allowLoopback: true,
      resolveHost: mapTo('127.0.0.1'),
    });
    expect(untrusted.reason).toBe('network');
  });

  it('reports a host name that does not resolve', async () => {
    const error = await failure(url('/client.json'), { resolveHost: mapTo(), ca: tls.cert });
    expect(error.reason).toBe('dns');
    expect(connects).toBe(0);
  });

  it('tells a name that does not exist (permanent) from a resolver that did not answer (transient)', async () => {
    const failingWith = (code: string) => async (): Promise<LookupAddress[]> => {
      throw Object.assign(new Error(`getaddrinfo ${code}`), { code });
    };
    const missing = await failure(url('/client.json'), {
      resolveHost: failingWith('ENOTFOUND'),
      ca: tls.cert,
    });
    expect(missing.reason).toBe('dns');
    const unanswered = await failure(url('/client.json'), {
      resolveHost: failingWith('EAI_AGAIN'),
      ca: tls.cert,
    });
    expect(unanswered.reason).toBe('network');
    expect(connects).toBe(0);
  });
});
