import { createHmac } from 'node:crypto';
import * as m from '@oauth-cache/core';
console.log(import.meta.resolve('@oauth-cache/core'));
const c = m.createTokenCache({ store: new m.MemoryStore(), environment: 'test', secret: Buffer.alloc(32, 1), encryptionKeys: [{ kid: 'k', key: Buffer.alloc(32, 2) }] });
for (const t of ['abc', 'ünï-😀', 'x'.repeat(4000), 'bench-token-1-xxxxxxxxxxxxxxxxxxxx']) if (c.digest(t) !== createHmac('sha256', Buffer.alloc(32, 1)).update(t).digest('base64url')) throw new Error('mismatch');
console.log('digest identical to createHmac');
await c.close();
