// Builds a large Zipkin v2 trace by replicating the real 1,041-span SmartThings trace from the
// shared fixtures (openzipkin/zipkin, zipkin-lens/testdata; see shared/fixtures/MANIFEST.tsv)
// with fresh span ids, all in one trace.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { root } from '../support.mjs';

export function largeZipkinTrace(copies) {
  const spans = JSON.parse(
    readFileSync(join(root, '..', 'shared', 'fixtures', 'zipkin-lens-smartthings-mobile-web-install.json'), 'utf8'),
  );
  const out = [];
  for (let k = 0; k < copies; k++) {
    // A per-copy prefix keeps ids unique across copies and stable within one.
    const prefix = k.toString(16).padStart(4, '0');
    const id = (s) => (s ? prefix + s.slice(4) : s);
    for (const s of spans) out.push({ ...s, id: id(s.id), parentId: id(s.parentId) });
  }
  return out;
}
