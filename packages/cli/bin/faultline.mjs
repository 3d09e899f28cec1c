#!/usr/bin/env node
// The faultline command's entry: the built CLI (run `npm run demo` or a build first).
import('../dist/bin.js').catch((e) => {
  process.stderr.write(
    `faultline: the CLI is not built (${e.message}); run 'npm run demo' or 'pnpm exec turbo run build' first\n`,
  );
  process.exit(1);
});
