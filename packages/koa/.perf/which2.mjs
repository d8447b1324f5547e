console.log(import.meta.resolve('@oauth-cache/keyv'), import.meta.resolve('../dist/index.js'));
const { L1Store } = await import('@oauth-cache/keyv'); console.log(Object.getOwnPropertyNames(L1Store.prototype).includes('l1Stats') ? 'l1Stats' : '', String(Object.getOwnPropertyDescriptor(L1Store.prototype, 'l1Stats').get).includes('coalesced') ? 'NEW keyv' : 'OLD keyv');
