/**
 * Test and bench support (`@oauth-cache/cli/testing`): generate legacy dumps of any size, streamed.
 * @packageDocumentation
 */
export {
  isExpiredEntry,
  type LegacyDumpSpec,
  legacyLogin,
  legacyPassword,
  legacyToken,
  writeLegacyDump,
} from './legacy-dump-writer.js';
