// `node scripts/disallow_wasm_features.mjs FILE.wasm FEATURE...`: marks features as disallowed
// ("-") in the module's `target_features` section, in place, for wasm-bindgen to read.
// The wasm-bindgen CLI picks its ABI from that section, and the section lists
// `reference-types` whatever `-C target-feature` says (the standard library is built with it).
// scripts/build.sh builds the SDK with `-C target-feature=-reference-types`, so that the
// wasm-bindgen crate keeps JavaScript values in the glue's array rather than an externref table
// managed from Rust, and this tells the CLI to match: 0.8 KB less wasm for 0.1 KB more glue
// (gzip: -0.4 KB and +0.1 KB). Nothing else in the module uses the feature.
import { readFileSync, writeFileSync } from 'node:fs';

const [file, ...features] = process.argv.slice(2);
const bytes = readFileSync(file);
const leb = (at) => {
  let value = 0, shift = 0, byte;
  do {
    byte = bytes[at++];
    value += (byte & 0x7f) * 2 ** shift;
    shift += 7;
  } while (byte & 0x80);
  return [value, at];
};
const text = (at, len) => bytes.subarray(at, at + len).toString('latin1');
const todo = new Set(features);
let at = 8; // magic and version
while (at < bytes.length) {
  const id = bytes[at];
  const [size, body] = leb(at + 1);
  if (id === 0) {
    const [nameLen, nameAt] = leb(body);
    if (text(nameAt, nameLen) === 'target_features') {
      let [count, p] = leb(nameAt + nameLen);
      for (; count > 0; count--) {
        const prefix = p;
        const [len, featureAt] = leb(p + 1);
        if (todo.delete(text(featureAt, len))) bytes[prefix] = 0x2d; // '-'
        p = featureAt + len;
      }
    }
  }
  at = body + size;
}
if (todo.size) throw new Error(`${file}: not in its target_features section: ${[...todo].join(', ')}`);
writeFileSync(file, bytes);
