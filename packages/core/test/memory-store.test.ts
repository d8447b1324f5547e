import { runConformanceSuite } from '../src/conformance/index.js';
import { MemoryStore } from '../src/index.js';

runConformanceSuite({ name: 'memory', createStore: async () => new MemoryStore({ max: 10_000 }) });
