/**
 * V8 flags for the process the CLI owns. Imported first by `Cli.ts` (an import evaluated for its effect):
 * it must run before the request path's code has ever executed.
 *
 * `--no-allocation-site-pretenuring`: V8 tracks object literals per allocation site to decide whether to
 * allocate them directly in the old generation. On Switchyard's request path (a fiber per request, every
 * request's objects dying young) that tracking, together with Effect's root-fiber set
 * (src/runtime/FiberRoots.ts), let old garbage keep young objects alive: ≈4.5 KB of every request was
 * promoted and scavenges took 7–10 ms. With both addressed, ≈0.2 KB per request is promoted and scavenges
 * take ≈1.5 ms (bench/README.md, "Where the time goes"). The flag only turns an optimisation off. It cannot
 * go in NODE_OPTIONS (Node refuses it there), and V8 reads it when it allocates, so setting it at startup
 * takes effect. Programs that embed Switchyard can start Node with the flag themselves.
 */
import { setFlagsFromString } from "node:v8"

setFlagsFromString("--no-allocation-site-pretenuring")
