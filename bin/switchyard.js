#!/usr/bin/env node
// V8 flags first, then the program: a static import would load every module before any code runs
// (src/cli/V8Flags.ts says why the flags matter while loading). The program is the CLI bundle that
// `npm run build` writes (scripts/bundle.mjs says why it is a bundle).
import { starting } from "../dist/src/cli/V8Flags.js"

starting()
await import("../dist/cli/switchyard.js")
