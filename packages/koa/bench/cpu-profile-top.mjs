// Top frames of a V8 CPU profile (.cpuprofile JSON), by self time and by inclusive time, with
// µs per request when the request count is known. Used by hot-path.bench.mjs (BENCH_PROFILE), and
// runnable on its own: node bench/cpu-profile-top.mjs <file.cpuprofile> [requests] [rows]
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';

/** `{ self, total }`: rows `{ frame, ms, share }` sorted by time, `rows` of each. */
export function topFrames(profile, rows = 25) {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const sampleUs = new Map();
  const { samples, timeDeltas } = profile;
  for (let i = 0; i < samples.length; i += 1) {
    // timeDeltas[i] is the time before sample i: attribute it to sample i's node.
    sampleUs.set(samples[i], (sampleUs.get(samples[i]) ?? 0) + Math.max(0, timeDeltas[i] ?? 0));
  }
  const label = (node) => {
    const { functionName, url, lineNumber } = node.callFrame;
    const where = url ? `${shorten(url)}:${lineNumber + 1}` : '';
    return `${functionName || '(anonymous)'}${where ? ` ${where}` : ''}`;
  };
  const self = new Map();
  const total = new Map();
  let all = 0;
  for (const [id, us] of sampleUs) {
    all += us;
    const node = byId.get(id);
    const name = label(node);
    self.set(name, (self.get(name) ?? 0) + us);
    // Inclusive: once per distinct frame on the stack (recursion counted once).
    const seen = new Set();
    for (let at = id; at !== undefined; at = parent.get(at)) {
      const frame = label(byId.get(at));
      if (seen.has(frame)) continue;
      seen.add(frame);
      total.set(frame, (total.get(frame) ?? 0) + us);
    }
  }
  const sorted = (map) =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, rows)
      .map(([frame, us]) => ({ frame, ms: us / 1000, share: us / all }));
  return { totalMs: all / 1000, self: sorted(self), total: sorted(total) };
}

/** Print {@link topFrames}; with `requests`, also µs per request. */
export function printTopFrames(profile, requests, rows = 25) {
  const top = topFrames(profile, rows);
  const perRequest = (ms) => (requests ? `${((ms * 1000) / requests).toFixed(2).padStart(7)} µs/req` : '');
  console.log(`  profiled ${top.totalMs.toFixed(0)} ms${requests ? ` over ${requests} requests` : ''}`);
  for (const [title, list] of [
    ['self time', top.self],
    ['inclusive time', top.total],
  ]) {
    console.log(`  top frames by ${title}:`);
    for (const row of list) {
      console.log(
        `    ${(row.share * 100).toFixed(1).padStart(5)}% ${perRequest(row.ms)}  ${row.frame.slice(0, 110)}`,
      );
    }
  }
  return top;
}

/** node_modules/.pnpm/<pkg>/node_modules/<name>/lib/x.js -> <name>/lib/x.js; workspace files by package. */
function shorten(url) {
  const path = url.replace(/^file:\/\//, '');
  const inModules = path.lastIndexOf('/node_modules/');
  if (inModules !== -1) return path.slice(inModules + '/node_modules/'.length);
  const inPackages = path.indexOf('/packages/');
  if (inPackages !== -1) return path.slice(inPackages + 1);
  return path.startsWith('node:') ? path : basename(path);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [file, requests, rows] = process.argv.slice(2);
  if (!file) {
    console.error('usage: node bench/cpu-profile-top.mjs <file.cpuprofile> [requests] [rows]');
    process.exit(2);
  }
  printTopFrames(JSON.parse(readFileSync(file, 'utf8')), Number(requests) || 0, Number(rows) || 25);
}
