/** Replaced by `true` when scripts/package.mjs bundles the app (esbuild `define`); undeclared otherwise. */
declare const CLUSTERDNS_BUNDLE: boolean | undefined;

/**
 * Whether this code runs from the packaged bundle rather than from dist/. In the bundle every
 * thread's code is one file in one folder (`clusterdns.js`, `<room>-worker.js`, `page/`), and
 * `__dirname` is that folder: a file found relative to dist/ must be looked up there instead.
 */
export const BUNDLED = typeof CLUSTERDNS_BUNDLE !== 'undefined' && CLUSTERDNS_BUNDLE === true;
