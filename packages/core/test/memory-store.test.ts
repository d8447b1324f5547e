import { runConformanceSuite, runStoreSuite } from '../src/conformance/index.js';
import { MemoryStore } from '../src/index.js';

const open = async () => new MemoryStore({ max: 10_000 });

// In-process only: no lock, no staged import; it takes TTLs as given and stays usable after close.
runStoreSuite({
  name: 'memory',
  open,
  capabilities: {
    lock: false,
    bulkLoad: false,
    refusesNonFiniteTtl: false,
    rejectsAfterClose: false,
    holdsInProcess: true,
  },
});
runConformanceSuite({ name: 'memory', createStore: open });
