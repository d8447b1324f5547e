import {
  callTool,
  getPrompt,
  listPrompts,
  listResources,
  listTools,
  RpcError,
  readResource,
} from './mcp-catalog.js';
import type { EmulatorUser } from './users.js';

/** JSON-RPC 2.0 error codes used by the emulator. */
export const RPC_ERRORS = {
  parseError: -32700,
  invalidRequest: -32600,
  methodNotFound: -32601,
  invalidParams: -32602,
  internalError: -32603,
} as const;

type RpcId = string | number | null;

/** What the HTTP layer sends back: a JSON body, or nothing for a notification. */
export interface RpcOutcome {
  /** `undefined` for a notification (request without `id`): no response body. */
  body?: { jsonrpc: '2.0'; id: RpcId; result?: unknown; error?: { code: number; message: string } };
  method?: string;
  target?: string;
}

type Params = Record<string, unknown>;
type Handler = (params: Params, user: EmulatorUser) => unknown;

const METHODS: Record<string, Handler> = {
  initialize: () => ({
    protocolVersion: '2025-06-18',
    capabilities: {
      tools: { listChanged: false },
      resources: { listChanged: false, subscribe: false },
      prompts: { listChanged: false },
    },
    serverInfo: { name: 'onec-emulator (NOT 1C: a development emulator)', version: '0.1.0' },
  }),
  'tools/list': () => listTools(),
  'tools/call': callTool,
  'resources/list': () => listResources(),
  'resources/read': readResource,
  'prompts/list': () => listPrompts(),
  'prompts/get': getPrompt,
};

/**
 * Handle one JSON-RPC request body the way the 1C extension's dispatcher does: one object per
 * request (batches are rejected with -32600), notifications get no answer, protocol errors go in
 * `error`, tool failures in a normal result with `isError: true`.
 */
export function handleRpc(text: string, user: EmulatorUser): RpcOutcome {
  let request: unknown;
  try {
    request = JSON.parse(text);
  } catch {
    return failure(null, RPC_ERRORS.parseError, 'Parse error: request body is not valid JSON');
  }
  if (typeof request !== 'object' || request === null || Array.isArray(request)) {
    return failure(null, RPC_ERRORS.invalidRequest, 'Invalid Request: expected one JSON-RPC request object');
  }
  const { jsonrpc, id, method, params } = request as Record<string, unknown>;
  const validId = id === undefined || id === null || typeof id === 'string' || typeof id === 'number';
  const replyId: RpcId = validId && id !== undefined ? (id as RpcId) : null;
  if (jsonrpc !== '2.0' || !validId || typeof method !== 'string' || method === '') {
    return failure(
      replyId,
      RPC_ERRORS.invalidRequest,
      'Invalid Request: need jsonrpc "2.0", a method and a valid id',
    );
  }
  const outcome = dispatch(method, params, user, replyId);
  // A notification (no id) is executed but never answered.
  return id === undefined ? { method, ...(outcome.target ? { target: outcome.target } : {}) } : outcome;
}

function dispatch(method: string, params: unknown, user: EmulatorUser, id: RpcId): RpcOutcome {
  const handler = Object.hasOwn(METHODS, method) ? METHODS[method] : undefined;
  if (!handler) return { ...failure(id, RPC_ERRORS.methodNotFound, `Method not found: ${method}`), method };
  if (params !== undefined && (typeof params !== 'object' || params === null || Array.isArray(params))) {
    return { ...failure(id, RPC_ERRORS.invalidParams, 'Invalid params: expected an object'), method };
  }
  const args = (params ?? {}) as Params;
  const target = targetOf(args);
  try {
    return {
      body: { jsonrpc: '2.0', id, result: handler(args, user) },
      method,
      ...(target ? { target } : {}),
    };
  } catch (error) {
    const code = error instanceof RpcError ? error.code : RPC_ERRORS.internalError;
    const message = error instanceof RpcError ? error.message : 'Internal error';
    return { ...failure(id, code, message), method, ...(target ? { target } : {}) };
  }
}

function targetOf(params: Params): string | undefined {
  const value = params.name ?? params.uri;
  return typeof value === 'string' ? value.slice(0, 200) : undefined;
}

function failure(id: RpcId, code: number, message: string): RpcOutcome {
  return { body: { jsonrpc: '2.0', id, error: { code, message } } };
}
