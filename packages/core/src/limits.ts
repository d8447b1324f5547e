import { InvalidInputError } from './errors.js';

/** Longest token we accept; longer input is rejected before any hashing or store call. */
export const MAX_TOKEN_LENGTH = 4096;
/** Longest user id. */
export const MAX_USER_ID_LENGTH = 512;

/** True for a string that could be one of our tokens (cheap check on the validation path). */
export function isPlausibleToken(token: unknown): token is string {
  return typeof token === 'string' && token.length > 0 && token.length <= MAX_TOKEN_LENGTH;
}

/** Throw a clear error for a token argument that can never be valid. The token is not echoed. */
export function assertToken(token: unknown, name: string): asserts token is string {
  if (typeof token !== 'string') throw new InvalidInputError(`${name} must be a string`);
  if (token.length === 0) throw new InvalidInputError(`${name} must not be empty`);
  if (token.length > MAX_TOKEN_LENGTH) {
    throw new InvalidInputError(`${name} is longer than ${MAX_TOKEN_LENGTH} characters`);
  }
}

/** Throw a clear error for scopes that are not an array of strings (absent is fine). */
export function assertScopes(scopes: unknown): asserts scopes is string[] | undefined {
  if (scopes !== undefined && (!Array.isArray(scopes) || scopes.some((s) => typeof s !== 'string'))) {
    throw new InvalidInputError('scopes must be an array of strings');
  }
}

export function assertUserId(userId: unknown): asserts userId is string {
  if (typeof userId !== 'string' || userId.length === 0) {
    throw new InvalidInputError('userId must be a non-empty string');
  }
  if (userId.length > MAX_USER_ID_LENGTH) {
    throw new InvalidInputError(`userId is longer than ${MAX_USER_ID_LENGTH} characters`);
  }
}

/** A lifetime argument in seconds (`fallback` when absent); a clear error unless positive and finite. */
export function seconds(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new InvalidInputError(`${name} must be a positive number of seconds`);
  }
  return value;
}
