// The TypeScript declarations against the JavaScript: every entry point exports exactly the
// names `index.d.ts` declares (the browser-only `documentContext` aside), and an app written
// against the declarations type-checks under `strict`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { root } from '../support.mjs';

const dist = join(root, 'sdk', 'dist');
const declared = (() => {
  const dts = readFileSync(join(dist, 'index.d.ts'), 'utf8');
  return new Set([...dts.matchAll(/^export declare (?:function|const|class) (\w+)/gm)].map((m) => m[1]));
})();

function exportedNames(file) {
  // The entry points re-export with `export * from`, `export { … } from` and declare `export function`.
  const text = readFileSync(join(dist, file), 'utf8');
  const names = new Set();
  for (const m of text.matchAll(/export \* from '\.\/([\w.]+)'/g)) for (const n of exportedNames(m[1])) names.add(n);
  for (const m of text.matchAll(/export \{([^}]*)\}/g)) for (const n of m[1].split(',')) if (n.trim()) names.add(n.trim());
  for (const m of text.matchAll(/^export (?:async )?function (\w+)/gm)) names.add(m[1]);
  return names;
}

test('each runtime entry exports what index.d.ts declares', async () => {
  const node = new Set(Object.keys(await import(join(dist, 'node.js'))));
  const browserOnly = new Set(['documentContext', 'setUser', 'sessionId']);
  const serverOnly = new Set(['instrument']);
  for (const [name, names] of [['node.js (loaded)', node], ['workerd.js', exportedNames('workerd.js')], ['browser.js', exportedNames('browser.js')]]) {
    const expected = [...declared]
      .filter((n) => (name === 'browser.js' ? !serverOnly.has(n) : !browserOnly.has(n)))
      .sort();
    assert.deepEqual([...names].sort(), expected, name);
  }
});

test('an app written against the declarations type-checks under strict', () => {
  const tsc = join(root, 'node_modules', '.bin', 'tsc');
  try {
    execFileSync(tsc, ['-p', join(root, 'tests', 'sdk', 'types', 'tsconfig.json')], {
      cwd: root,
      encoding: 'utf8',
      stdio: 'pipe',
    });
  } catch (e) {
    assert.fail(`tsc reported:\n${e.stdout}${e.stderr}`);
  }
});
