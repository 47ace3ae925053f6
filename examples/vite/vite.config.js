// The SDK's browser entry instantiates its wasm with top-level await: the build target must
// allow it (Vite 7+'s default, `baseline-widely-available`, does).
export default { build: { target: 'es2022' } };
