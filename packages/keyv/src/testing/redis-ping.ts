import { connect } from 'node:net';
import { connect as connectTls } from 'node:tls';

/**
 * One inline `PING` over a raw socket: resolves true when the server answers (`+PONG`, or `-NOAUTH`
 * from a server with a password). Kept free of any Redis client so
 * the test helper can tell "server up" apart from "client misconfigured".
 */
export async function pingRedis(port: number, timeoutMs = 500, tls = false): Promise<boolean> {
  return new Promise((resolve) => {
    // The TLS probe only asks "is it up": the certificate is checked by the real clients.
    const socket = tls
      ? connectTls({ host: '127.0.0.1', port, rejectUnauthorized: false })
      : connect({ host: '127.0.0.1', port });
    let reply = '';
    const done = (ok: boolean): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.once('error', () => done(false));
    socket.on('data', (chunk) => {
      reply += chunk.toString('latin1');
      // `-NOAUTH` is an answer too: the server is up and wants a password.
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG') || reply.startsWith('-NOAUTH'));
    });
    socket.once(tls ? 'secureConnect' : 'connect', () => socket.write('PING\r\n'));
  });
}
