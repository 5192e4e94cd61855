#!/usr/bin/env node
// The `rxkeras` command. The package runs its TypeScript sources through tsx
// (no build step): register tsx's ESM loader, then run the CLI.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
// Exit explicitly (output is flushed by then): a backend's worker threads must not keep the process alive.
process.exit(await main(process.argv.slice(2)));
