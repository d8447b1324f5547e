import type { EventEmitter } from 'node:events';
import type { CacheConfig } from './config.js';
import type { Counters } from './counters.js';
import type { Digester } from './crypto/digest.js';
import type { Sealer } from './crypto/sealer.js';
import type { TokenSealer } from './crypto/token-sealer.js';
import type { CacheEventMap, SecurityEvent } from './events.js';
import type { RecordCodec } from './records/codec.js';
import type { CacheStore } from './store/contract.js';

/** What the token, session and refresh services share. Internal. */
export interface CacheContext {
  config: CacheConfig;
  store: CacheStore;
  codec: RecordCodec;
  digester: Digester;
  sealer: Sealer;
  /** Seals what only a token's holder may open (1C credentials, codes' grants). */
  tokenSealer: TokenSealer;
  counters: Counters;
  events: EventEmitter<CacheEventMap>;
  now: () => number;
  /** Prefixed store key. */
  key: (suffix: string) => string;
  /** Digest of a user id, as used in index keys. */
  userHash: (userId: string) => string;
  security: (event: Omit<SecurityEvent, 'at'>) => void;
  operation: (subject: 'token' | 'session', operation: string, result: string, started: number) => void;
  /** Report a failed call: an `operation` event with result `error` and an `error` event. */
  failure: (subject: 'token' | 'session', operation: string, error: unknown, started: number) => void;
}
