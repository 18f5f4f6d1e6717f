import { defineConfig, type Plugin } from 'vitest/config';
import react from '@vitejs/plugin-react';

/**
 * The built app's Content-Security-Policy: scripts and workers from its own origin only, nothing
 * inline but styles (React and CodeMirror set them). Only in the build: the dev server injects
 * inline scripts for hot reload.
 */
export const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "worker-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

const csp = (): Plugin => ({
  name: 'tdpviz-csp',
  apply: 'build',
  transformIndexHtml: () => [
    {
      tag: 'meta',
      attrs: { 'http-equiv': 'Content-Security-Policy', content: CSP },
      injectTo: 'head-prepend',
    },
  ],
});

export default defineConfig({
  plugins: [react(), csp()],
  worker: { format: 'es' },
  // Source maps only when asked for (SOURCEMAP=1 npm run build): the app ships without them.
  build: { target: 'es2022', sourcemap: process.env.SOURCEMAP === '1' },
  preview: { port: 4173, strictPort: true, headers: { 'Content-Security-Policy': CSP } },
  test: {
    environment: 'node',
    include: ['src/**/*.test.ts'],
  },
});
