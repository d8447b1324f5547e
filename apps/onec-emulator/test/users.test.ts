import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_USERS_FILE, loadUsersFile, parseUsers, startEmulator } from '../src/index.js';
import { basic } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'onec-emulator-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('users', () => {
  it('ships demo users: demo, ivanov (Cyrillic password) and noaccess', () => {
    const users = loadUsersFile(DEFAULT_USERS_FILE);
    expect(users.map((user) => [user.login, user.access])).toEqual([
      ['demo', true],
      ['ivanov', true],
      ['noaccess', false],
    ]);
    expect(users.find((user) => user.login === 'ivanov')?.password).toBe('Пароль123');
  });

  it.each([
    [{ users: [{ password: 'x' }] }, /users\[0\]\.login/],
    [[{ login: 'a:b', password: 'x' }], /users\[0\]\.login/],
    [[{ login: 'a', password: 1 }], /users\[0\]\.password/],
    [
      [
        { login: 'a', password: 'x' },
        { login: 'b', password: 'y', access: 'yes' },
      ],
      /users\[1\]\.access/,
    ],
    [
      [
        { login: 'a', password: 'x' },
        { login: 'a', password: 'y' },
      ],
      /users\[1\]\.login: duplicate/,
    ],
    [{ people: [] }, /expected \{"users"/],
  ])('rejects %j naming the field', (document, message) => {
    expect(() => parseUsers(document, 'test.json')).toThrow(message);
  });

  it('names the file on invalid JSON or a missing file', () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{"users": [');
    expect(() => loadUsersFile(bad)).toThrow(`${bad}: invalid JSON`);
    expect(() => loadUsersFile(join(dir, 'missing.json'))).toThrow(
      /missing\.json: cannot read users file \(ENOENT\)/,
    );
  });

  it('serves users from a custom file and from in-process options', async () => {
    const file = join(dir, 'users.json');
    writeFileSync(file, JSON.stringify([{ login: 'Петров', password: 'секрет' }]));
    const fromFile = await startEmulator({ usersFile: file });
    const inline = await startEmulator({ users: [{ login: 'x', password: 'y' }] });
    try {
      const ok = await fetch(`${fromFile.serviceUrl}/health`, {
        headers: { authorization: basic('Петров', 'секрет') },
      });
      expect(ok.status).toBe(200);
      const demo = await fetch(`${fromFile.serviceUrl}/health`, {
        headers: { authorization: basic('demo', 'demo') },
      });
      expect(demo.status).toBe(401);
      const x = await fetch(`${inline.serviceUrl}/health`, { headers: { authorization: basic('x', 'y') } });
      expect(x.status).toBe(200);
    } finally {
      await Promise.all([fromFile.close(), inline.close()]);
    }
  });
});
