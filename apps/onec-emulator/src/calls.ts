/** One request the emulator answered: who called what. Never holds a password. */
export interface EmulatorCall {
  /** Epoch ms. */
  at: number;
  /** `health`, `rpc`, or `other` (unknown path / wrong method). */
  endpoint: 'health' | 'rpc' | 'other';
  httpMethod: string;
  path: string;
  /** The Basic login presented (even when rejected), or `null` without credentials. */
  user: string | null;
  /** Whether the credentials were accepted and the user has access. */
  authorized: boolean;
  /** JSON-RPC method, for `rpc` calls that parsed. */
  rpcMethod?: string;
  /** `tools/call` tool name / `prompts/get` prompt name / `resources/read` uri. */
  target?: string;
  status: number;
}
