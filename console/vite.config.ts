import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

/** Builds the console into the package (`dist/console`), which the node serves at `/`. */
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  // JSX compiles to Preact's automatic runtime (no Babel: Vite's own transformer does it).
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  resolve: { alias: { react: 'preact/compat', 'react-dom': 'preact/compat' } },
  build: {
    outDir: fileURLToPath(new URL('../dist/console', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    reportCompressedSize: true,
  },
  server: { proxy: { '/v1': 'http://127.0.0.1:4000', '/metrics': 'http://127.0.0.1:4000' } },
});
