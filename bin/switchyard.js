#!/usr/bin/env node
// V8 flags first, then the program: a static import would load every module before any code runs
// (src/cli/V8Flags.ts says why the flags matter while loading).
import { starting } from "../dist/src/cli/V8Flags.js"

starting()
await import("../dist/src/cli/Cli.js")
