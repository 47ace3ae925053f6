// The public TypeScript surface of the npm package (sdk/js/*.d.ts), without doc comments, against the copy
// committed in tests/sdk/types/api.snapshot.d.ts: a change to a declaration (a name, a type, an
// option, a signature) fails here until it is accepted on purpose with
// `UPDATE_SNAPSHOT=1 node --test tests/sdk/the_declarations_change_only_when_reviewed.test.mjs`,
// which rewrites the copy, so that the change shows in the commit for review. Comments and
// blank lines may change freely.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { root } from '../support.mjs';

const snapshot = join(root, 'tests', 'sdk', 'types', 'api.snapshot.d.ts');

/** The declarations without comments, one statement line each as written, trailing spaces and blank lines gone. */
export function surface(text) {
  return text
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/^\s*\/\/.*$/gm, '')
    .split('\n')
    .map((line) => line.replace(/\s+$/, ''))
    .filter((line) => line !== '')
    .join('\n')
    .concat('\n');
}

test('the declarations declare what was last reviewed', () => {
  const dir = join(root, 'sdk', 'js');
  const files = readdirSync(dir).filter((f) => f.endsWith('.d.ts')).sort();
  const now = files.map((f) => `// ${f}\n${surface(readFileSync(join(dir, f), 'utf8'))}`).join('');
  if (process.env.UPDATE_SNAPSHOT) writeFileSync(snapshot, now);
  const reviewed = readFileSync(snapshot, 'utf8');
  if (now === reviewed) return;
  const a = reviewed.split('\n');
  const b = now.split('\n');
  let i = 0;
  while (a[i] === b[i]) i++;
  assert.fail(
    `sdk/js/*.d.ts changed the public API at line ${i + 1} of their surface:\n` +
      `  reviewed: ${a[i] ?? '(end)'}\n  now:      ${b[i] ?? '(end)'}\n` +
      'If the change is intended, accept it with UPDATE_SNAPSHOT=1 node --test ' +
      'tests/sdk/the_declarations_change_only_when_reviewed.test.mjs and commit the snapshot.',
  );
});

test('the surface ignores comments but not declarations', () => {
  const base = 'export interface A {\n  /** doc */\n  a?: string;\n}\n';
  assert.equal(surface(base), surface('// note\nexport interface A {\n  /** other doc,\n   * two lines */\n\n  a?: string;\n}\n'));
  assert.notEqual(surface(base), surface(base.replace('a?: string', 'a?: string | number')));
});
