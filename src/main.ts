// Bundle entry: the only module that touches `process`. Placeholder until run.ts lands.
process.stdout.write("{}\n");
