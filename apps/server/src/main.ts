#!/usr/bin/env node
/**
 * The server binary: configuration from the environment, start, and graceful shutdown on
 * SIGTERM/SIGINT. Configuration errors exit with 78 (EX_CONFIG) and one message per variable.
 */
import { ConfigError, StoreUnavailableError } from '@oauth-cache/core';
import { createLogger } from '@oauth-cache/koa';
import { type LoadedConfig, loadServerConfig } from './config/server-config.js';
import { startServer } from './server.js';

const EX_CONFIG = 78;

function configFailure(error: ConfigError): never {
  process.stderr.write(
    `oauth-cache server: invalid configuration\n${error.issues.map((i) => `  - ${i}`).join('\n')}\n`,
  );
  process.exit(EX_CONFIG);
}

async function main(): Promise<void> {
  let loaded: LoadedConfig;
  try {
    loaded = loadServerConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) configFailure(error);
    throw error;
  }
  const { config, warnings } = loaded;
  const logger = createLogger({ level: config.logLevel, name: 'oauth-cache-server' });
  for (const warning of warnings) logger.warn(warning);

  let running: Awaited<ReturnType<typeof startServer>>;
  try {
    running = await startServer(config, { logger });
  } catch (error) {
    if (error instanceof ConfigError) configFailure(error);
    const code = (error as NodeJS.ErrnoException).code;
    if (error instanceof StoreUnavailableError) {
      process.stderr.write(
        `oauth-cache server: cannot open the token store (OAUTH_CACHE_STORE): ${error.message}\n`,
      );
    } else if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL') {
      process.stderr.write(
        `oauth-cache server: cannot listen on ${config.host}:${config.port} (MCP_HOST/MCP_PORT): ${code}\n`,
      );
    } else {
      throw error;
    }
    process.exit(1);
  }
  logger.info(
    {
      url: running.url,
      publicUrl: running.publicUrl,
      mcp: `${running.publicUrl}/mcp`,
      onec: config.onecServiceUrl,
      store: config.storeUrl.replace(/\/\/[^@/]*@/, '//***@'),
    },
    `oauth-cache server listening on ${running.url}; MCP endpoint ${running.publicUrl}/mcp`,
  );

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal, graceMs: config.shutdownGraceMs }, 'shutting down: finishing in-flight requests');
    running.close().then(
      () => {
        logger.info('stopped');
        process.exit(0);
      },
      (error: unknown) => {
        logger.error({ err: error }, 'error while stopping');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((error: unknown) => {
  process.stderr.write(
    `oauth-cache server: failed to start: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exit(1);
});
