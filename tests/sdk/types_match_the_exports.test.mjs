// The TypeScript declarations against the JavaScript: under each condition of package.json's
// `exports`, the entry's runtime exports are exactly the names its declarations declare (so
// TypeScript offers no browser-only `setUser` to a Node or workerd app, nor `instrument` to a
// page), and apps written against the declarations type-check under `strict`, for the browser
// and for a server.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { root } from '../support.mjs';

const sdk = join(root, 'sdk');
const pkg = JSON.parse(readFileSync(join(sdk, 'package.json'), 'utf8'));

/** The names a declaration file declares, through its `export * from` too. */
function declaredNames(file) {
  const dts = readFileSync(join(sdk, file), 'utf8');
  const names = new Set([...dts.matchAll(/^export declare (?:function|const|class) (\w+)/gm)].map((m) => m[1]));
  for (const m of dts.matchAll(/^export \* from '\.\/([\w.]+)\.js'/gm)) for (const n of declaredNames(join('dist', `${m[1]}.d.ts`))) names.add(n);
  return names;
}

/** The names a module exports, read from its source (`export * from`, `export { … }`, `export function`). */
function exportedNames(file) {
  const text = readFileSync(join(sdk, file), 'utf8');
  const names = new Set();
  for (const m of text.matchAll(/export \* from '\.\/([\w.]+)'/g)) for (const n of exportedNames(join('dist', m[1]))) names.add(n);
  for (const m of text.matchAll(/export \{([^}]*)\}/g)) for (const n of m[1].split(',')) if (n.trim()) names.add(n.trim());
  for (const m of text.matchAll(/^export (?:async )?function (\w+)/gm)) names.add(m[1]);
  return names;
}

test("each entry's runtime exports are exactly what its declarations declare, under every exports condition", async () => {
  const entries = [
    ...Object.entries(pkg.exports['.']).map(([c, to]) => [`. (${c})`, to]),
    ['./full', pkg.exports['./full']],
    ...Object.entries(pkg.exports['./workerd']).map(([c, to]) => [`./workerd (${c})`, to]),
  ];
  assert.ok(entries.length >= 8, 'every condition has types of its own');
  const loaded = new Set(Object.keys(await import(join(sdk, 'dist', 'node.js'))));
  for (const [condition, to] of entries) {
    assert.equal(typeof to, 'object', `${condition} gives its own types`);
    const declared = [...declaredNames(to.types ?? to.default.replace(/\.js$/, '.d.ts'))].sort();
    const exported = [...exportedNames(to.default ?? to.browser)].sort();
    assert.deepEqual(exported, declared, `${condition}: ${to.default} against ${to.types}`);
  }
  // The Node entry as it loads, not only as its source reads.
  assert.deepEqual([...loaded].sort(), [...declaredNames(pkg.exports['.'].node.types)].sort(), 'node.js as loaded');
  assert.ok(declaredNames(pkg.exports['.'].node.types).has('instrument') && !declaredNames(pkg.exports['.'].node.types).has('setUser'));
  assert.ok(declaredNames(pkg.exports['.'].browser.types).has('setUser') && !declaredNames(pkg.exports['.'].browser.types).has('instrument'));
  assert.equal(pkg.types, pkg.exports['.'].default.types, 'the fallback types are the default entry\'s');
});

for (const project of ['types', 'types/server', 'types/node']) {
  test(`an app written against the declarations type-checks under strict (tests/sdk/${project})`, () => {
    const tsc = join(root, 'node_modules', '.bin', 'tsc');
    try {
      execFileSync(tsc, ['-p', join(root, 'tests', 'sdk', project, 'tsconfig.json')], { cwd: root, encoding: 'utf8', stdio: 'pipe' });
    } catch (e) {
      assert.fail(`tsc reported:\n${e.stdout}${e.stderr}`);
    }
  });
}
