export { GrantDirectory } from './grant-directory.js';
export type * from './types.js';
