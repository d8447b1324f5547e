import { CATALOG_NAMES, DEMO_CATALOGS } from './demo-data.js';
import type { EmulatorUser } from './users.js';

/** MCP `tools/call` result. */
export interface ToolResult {
  content: Array<{ type: 'text'; text: string }>;
  isError: boolean;
}

/** A JSON-RPC error a handler wants to answer with (e.g. unknown tool -> -32602). */
export class RpcError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

type Args = Record<string, unknown>;

interface DemoTool {
  name: string;
  description: string;
  inputSchema: { type: 'object'; properties: Record<string, unknown>; required?: string[] };
  run(args: Args, user: EmulatorUser): string;
}

const TOOLS: DemoTool[] = [
  {
    name: 'get_current_user',
    description: 'Returns the 1C user the request runs as (login and full name).',
    inputSchema: { type: 'object', properties: {} },
    run: (_args, user) => JSON.stringify({ login: user.login, fullName: user.fullName ?? user.login }),
  },
  {
    name: 'echo',
    description: 'Returns the given text unchanged.',
    inputSchema: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] },
    run: (args) => {
      if (typeof args.text !== 'string') throw new Error('argument "text" must be a string');
      return args.text;
    },
  },
  {
    name: 'list_catalog',
    description: 'Lists rows of a demo catalog (products or counterparties).',
    inputSchema: {
      type: 'object',
      properties: {
        catalog: { type: 'string', enum: CATALOG_NAMES },
        limit: { type: 'integer', minimum: 1, maximum: 100 },
      },
      required: ['catalog'],
    },
    run: (args) => {
      const rows = typeof args.catalog === 'string' ? DEMO_CATALOGS[args.catalog] : undefined;
      if (!rows) throw new Error(`unknown catalog; expected one of ${CATALOG_NAMES.join(', ')}`);
      const limit = args.limit ?? rows.length;
      if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > 100) {
        throw new Error('argument "limit" must be an integer from 1 to 100');
      }
      return JSON.stringify(rows.slice(0, limit));
    },
  },
];

/** `tools/list` result. */
export function listTools(): { tools: Array<Omit<DemoTool, 'run'>> } {
  return { tools: TOOLS.map(({ name, description, inputSchema }) => ({ name, description, inputSchema })) };
}

/**
 * `tools/call`. Like the real 1C dispatcher: unknown tool -> -32602; a missing required argument or a
 * failing tool -> a normal result with `isError: true`.
 */
export function callTool(params: Args, user: EmulatorUser): ToolResult {
  const name = params.name;
  if (typeof name !== 'string' || name === '') throw new RpcError(-32602, 'params.name: tool name required');
  const args = params.arguments ?? {};
  if (!isArgs(args)) throw new RpcError(-32602, 'params.arguments: expected an object');
  const tool = TOOLS.find((candidate) => candidate.name === name);
  if (!tool) throw new RpcError(-32602, `Tool '${name}' not found`);
  const missing = (tool.inputSchema.required ?? []).filter((key) => !(key in args));
  if (missing.length > 0) {
    return errorResult(`Missing required arguments of tool '${name}': ${missing.join(', ')}`);
  }
  try {
    return { content: [{ type: 'text', text: tool.run(args, user) }], isError: false };
  } catch (error) {
    return errorResult(`Tool '${name}' failed: ${(error as Error).message}`);
  }
}

const RESOURCES = [
  ...CATALOG_NAMES.map((catalog) => ({
    uri: `onec://catalog/${catalog}`,
    name: `Catalog ${catalog}`,
    description: `Demo catalog "${catalog}" as JSON`,
    mimeType: 'application/json',
  })),
  {
    uri: 'onec://session/user',
    name: 'Current user',
    description: 'The 1C user the request runs as',
    mimeType: 'application/json',
  },
];

/** `resources/list` result. */
export function listResources(): { resources: typeof RESOURCES } {
  return { resources: RESOURCES };
}

/**
 * `resources/read`. Content items carry both the MCP shape (`uri`, `mimeType`, `text`) and the
 * `type: "text"` field the 1C extension adds. Unknown uri -> -32002 (MCP "resource not found").
 */
export function readResource(
  params: Args,
  user: EmulatorUser,
): { contents: Array<{ uri: string; mimeType: string; type: 'text'; text: string }> } {
  const uri = params.uri;
  if (typeof uri !== 'string' || uri === '') throw new RpcError(-32602, 'params.uri: resource uri required');
  let text: string | undefined;
  if (uri === 'onec://session/user') {
    text = JSON.stringify({ login: user.login, fullName: user.fullName ?? user.login });
  } else if (uri.startsWith('onec://catalog/')) {
    const rows = DEMO_CATALOGS[uri.slice('onec://catalog/'.length)];
    if (rows) text = JSON.stringify(rows);
  }
  if (text === undefined) throw new RpcError(-32002, `Resource '${uri}' not found`);
  return { contents: [{ uri, mimeType: 'application/json', type: 'text', text }] };
}

const PROMPTS = [
  {
    name: 'catalog_report',
    description: 'Asks for a short report on a demo catalog',
    arguments: [{ name: 'catalog', description: `One of: ${CATALOG_NAMES.join(', ')}`, required: true }],
  },
  { name: 'greeting', description: 'Greets the current 1C user', arguments: [] },
];

/** `prompts/list` result. */
export function listPrompts(): { prompts: typeof PROMPTS } {
  return { prompts: PROMPTS };
}

/** `prompts/get`. Unknown prompt or missing required argument -> -32602. */
export function getPrompt(
  params: Args,
  user: EmulatorUser,
): { description: string; messages: Array<{ role: 'user'; content: { type: 'text'; text: string } }> } {
  const name = params.name;
  if (typeof name !== 'string' || name === '')
    throw new RpcError(-32602, 'params.name: prompt name required');
  const args = params.arguments ?? {};
  if (!isArgs(args)) throw new RpcError(-32602, 'params.arguments: expected an object');
  const prompt = PROMPTS.find((candidate) => candidate.name === name);
  if (!prompt) throw new RpcError(-32602, `Prompt '${name}' not found`);
  for (const argument of prompt.arguments) {
    if (argument.required && typeof args[argument.name] !== 'string') {
      throw new RpcError(-32602, `params.arguments.${argument.name}: required string argument`);
    }
  }
  const text =
    name === 'greeting'
      ? `Поприветствуй пользователя 1С ${user.fullName ?? user.login}.`
      : `Составь краткий отчёт по справочнику "${String(args.catalog)}".`;
  return { description: prompt.description, messages: [{ role: 'user', content: { type: 'text', text } }] };
}

function errorResult(text: string): ToolResult {
  return { content: [{ type: 'text', text }], isError: true };
}

function isArgs(value: unknown): value is Args {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
