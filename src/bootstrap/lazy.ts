// Everything a cache hit never needs (AWS SDK, Roles Anywhere, doctor, YAML): its own bundle, embedded in the executable as an asset and evaluated on first use.

export { wireTokenFetcher } from "../aws/wiring.ts";

/** doctor and its YAML parser: evaluated only when `doctor` runs, not on a plugin run's cache miss. */
export const loadDoctor = async () => {
  const [doctor, probe] = await Promise.all([import("../doctor/index.ts"), import("../doctor/probe.ts")]);
  return { createNodeDoctorDeps: doctor.createNodeDoctorDeps, runDoctor: doctor.runDoctor, probeImage: probe.probeImage };
};
