import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** A 1C user the emulator knows. */
export interface EmulatorUser {
  /** 1C login (the Basic auth user name). Any Unicode is fine, except `:`. */
  login: string;
  /** 1C password (may contain Cyrillic; Basic credentials are decoded as UTF-8). */
  password: string;
  /** The 1C user's full name, returned by the `get_current_user` tool. Defaults to the login. */
  fullName?: string;
  /** `false` = the user exists but has no right to the HTTP service: every request gets 403. */
  access?: boolean;
}

/** `users.json` beside `dist/`: the demo users shipped with the emulator. */
export const DEFAULT_USERS_FILE = fileURLToPath(new URL('../users.json', import.meta.url));

/**
 * Validate a parsed users document: either `{ "users": [...] }` or a bare array.
 * Throws an Error naming the source, the entry index and the field when something is wrong.
 */
export function parseUsers(document: unknown, source = 'users'): EmulatorUser[] {
  const list = Array.isArray(document)
    ? document
    : isRecord(document) && Array.isArray(document.users)
      ? document.users
      : undefined;
  if (!list) throw new Error(`${source}: expected {"users": [...]} or an array of users`);
  const seen = new Set<string>();
  return list.map((entry: unknown, index) => {
    const where = `${source}: users[${index}]`;
    if (!isRecord(entry)) throw new Error(`${where}: expected an object`);
    const { login, password, fullName, access } = entry;
    if (typeof login !== 'string' || login.length === 0 || login.includes(':')) {
      throw new Error(`${where}.login: expected a non-empty string without ":"`);
    }
    if (typeof password !== 'string') throw new Error(`${where}.password: expected a string`);
    if (fullName !== undefined && typeof fullName !== 'string') {
      throw new Error(`${where}.fullName: expected a string`);
    }
    if (access !== undefined && typeof access !== 'boolean') {
      throw new Error(`${where}.access: expected true or false`);
    }
    if (seen.has(login)) throw new Error(`${where}.login: duplicate login "${login}"`);
    seen.add(login);
    return { login, password, fullName: fullName ?? login, access: access ?? true };
  });
}

/** Read and validate a users JSON file. Errors name the file (and the JSON problem or field). */
export function loadUsersFile(path: string): EmulatorUser[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new Error(`${path}: cannot read users file (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw new Error(`${path}: invalid JSON (${(error as Error).message})`);
  }
  return parseUsers(document, path);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
