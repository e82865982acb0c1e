// Everything a cache hit never needs (AWS SDK, Roles Anywhere, doctor, YAML): its own bundle, embedded in the executable as an asset and evaluated on first use.

export { createTokenFetcher } from "./aws/fetch-token.js";
export { createNodeDoctorDeps, runDoctor } from "./doctor/index.js";
export { probeImage } from "./probe.js";
