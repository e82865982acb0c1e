// What the executable needs from the node at run time: its ELF interpreter, glibc >= 2.28 and libstdc++.
import type { DoctorFs, Finding } from "./types.ts";

/** Official Node.js >= 18 builds (and a SEA built from them) need glibc 2.28 (EKS AL2 has 2.26). */
export const MIN_GLIBC: readonly [number, number] = [2, 28];

const LIB_DIRS = [
  "/lib64",
  "/usr/lib64",
  "/lib/x86_64-linux-gnu",
  "/usr/lib/x86_64-linux-gnu",
  "/lib/aarch64-linux-gnu",
  "/usr/lib/aarch64-linux-gnu",
  "/lib",
  "/usr/lib",
];

/**
 * Where the executable will run when that is not the file tree doctor reads. Talos: the kubelet,
 * and so the plugin, runs in the siderolabs/kubelet image, built on
 * `registry.k8s.io/build-image/debian-base:bookworm` (debian:bookworm-slim, dist-upgraded, minus
 * bash, e2fsprogs, ncurses and tzdata; apt stays, and with it libstdc++6 and libgcc-s1), plus
 * ca-certificates, libcap2, iptables, nftables, nfs-common and util-linux. Talos bind-mounts only
 * /usr/local/lib/kubelet/credentialproviders of the extension into it, so an extension tree never
 * holds a C runtime and is not where to look for one. Sources: siderolabs/kubelet `Dockerfile`
 * @7128711f (BASE_IMAGE debian-base:bookworm-v1.0.7); kubernetes/release
 * `images/build/debian-base/{Makefile,bookworm/Dockerfile.build}`; glibc of bookworm: 2.36.
 */
export interface RuntimeProfile {
  describe: string;
  glibc: [number, number];
  /** Files the image has: ELF interpreters and libstdc++. */
  files: readonly string[];
}

export const RUNTIME_PROFILES: Readonly<Record<string, RuntimeProfile>> = {
  talos: {
    describe: "the Talos kubelet image (siderolabs/kubelet, debian-base:bookworm)",
    glibc: [2, 36],
    files: [
      "/lib64/ld-linux-x86-64.so.2",
      "/lib/ld-linux-aarch64.so.1",
      "/usr/lib/x86_64-linux-gnu/libstdc++.so.6",
      "/usr/lib/aarch64-linux-gnu/libstdc++.so.6",
    ],
  },
};

/** Fix hint when a node's C runtime cannot run the executable: the project ships glibc builds only. */
const GLIBC_NODE_FIX =
  "use a node with glibc >= 2.28 (Debian >= 10, Ubuntu >= 20.04, RHEL >= 8, AL2023, Talos); musl systems (Alpine) and EKS AL2 cannot run this build";

/** What the executable's header says it needs. */
export interface ExecutableNeeds {
  kind: "elf-static" | "elf-dynamic" | "script" | "unknown";
  /** PT_INTERP of a dynamic ELF, or the `#!` interpreter of a script. */
  interpreter?: string;
  needsLibstdcxx: boolean;
}

/** Read PT_INTERP (64-bit little-endian ELF) or a shebang line from the first bytes of a file. */
export function inspectExecutable(bytes: Uint8Array): ExecutableNeeds {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (b.length >= 2 && b[0] === 0x23 && b[1] === 0x21) {
    const line = b.subarray(2, Math.min(b.length, 256)).toString("latin1").split("\n")[0]!.trim();
    return { kind: "script", interpreter: line.split(/\s+/)[0], needsLibstdcxx: false };
  }
  if (b.length < 64 || b.readUInt32BE(0) !== 0x7f454c46 || b[4] !== 2 || b[5] !== 1) return { kind: "unknown", needsLibstdcxx: false };
  const phoff = Number(b.readBigUInt64LE(32));
  const phentsize = b.readUInt16LE(54);
  const phnum = b.readUInt16LE(56);
  let interpreter: string | undefined;
  for (let i = 0; i < phnum; i++) {
    const at = phoff + i * phentsize;
    if (at + 56 > b.length) break;
    if (b.readUInt32LE(at) === 3) {
      const off = Number(b.readBigUInt64LE(at + 8));
      const size = Number(b.readBigUInt64LE(at + 32));
      interpreter = b
        .subarray(off, off + size)
        .toString("latin1")
        .replace(/\0+$/, "");
    }
  }
  // DT_NEEDED names live in .dynstr; the literal is enough to know libstdc++ is required.
  const needsLibstdcxx = interpreter !== undefined && b.includes("libstdc++.so.6");
  return { kind: interpreter ? "elf-dynamic" : "elf-static", interpreter, needsLibstdcxx };
}

const versionAtLeast = (v: [number, number], min: readonly [number, number]) => v[0] > min[0] || (v[0] === min[0] && v[1] >= min[1]);

async function exists(fs: DoctorFs, path: string): Promise<boolean> {
  try {
    await fs.stat(path);
    return true;
  } catch {
    return false;
  }
}

/** Find the glibc version: `getconf GNU_LIBC_VERSION` output, else the banner inside libc.so.6. */
export async function findGlibcVersion(
  fs: DoctorFs,
  at: (p: string) => string,
  getconf: (() => Promise<string | undefined>) | undefined,
): Promise<{ version?: [number, number]; musl: boolean; how?: string }> {
  if (getconf) {
    const out = await getconf().catch(() => undefined);
    const m = out ? /glibc\s+(\d+)\.(\d+)/.exec(out) : null;
    if (m) return { version: [Number(m[1]), Number(m[2])], musl: false, how: "getconf GNU_LIBC_VERSION" };
  }
  for (const dir of LIB_DIRS) {
    const path = `${dir}/libc.so.6`;
    let bytes: Uint8Array;
    try {
      bytes = await fs.readBytes(at(path));
    } catch {
      continue;
    }
    const m = /GNU C Library[^\n]*?version (\d+)\.(\d+)/.exec(Buffer.from(bytes).toString("latin1"));
    if (m) return { version: [Number(m[1]), Number(m[2])], musl: false, how: path };
  }
  for (const dir of ["/lib", "/usr/lib"]) {
    const names = await fs.readdir(at(dir)).catch(() => [] as string[]);
    if (names.some((n) => n.startsWith("ld-musl-"))) return { musl: true, how: `${dir}/ld-musl-*` };
  }
  return { musl: false };
}

/** The runtime the check looks at: files under the node root, or a known image (--runtime). */
interface RuntimeView {
  has(path: string): Promise<boolean>;
  glibc(): Promise<{ version?: [number, number]; musl: boolean; how?: string }>;
  /** " in <image>" for a profile, "" for the node itself. */
  where: string;
}

function nodeView(fs: DoctorFs, at: (p: string) => string, getconf: (() => Promise<string | undefined>) | undefined): RuntimeView {
  return { has: (p) => exists(fs, at(p)), glibc: () => findGlibcVersion(fs, at, getconf), where: "" };
}

function profileView(profile: RuntimeProfile): RuntimeView {
  return {
    has: async (p) => profile.files.includes(p),
    glibc: async () => ({ version: profile.glibc, musl: false, how: profile.describe }),
    where: ` in ${profile.describe}`,
  };
}

/**
 * The `runtime` check: the executable's interpreter exists where it will run (a missing one fails
 * with "no such file or directory"), glibc >= 2.28 and libstdc++ when a dynamic executable needs
 * them. With `profile`, "where it will run" is that image (Talos), not the files under the root.
 */
export async function checkRuntime(
  fs: DoctorFs,
  at: (p: string) => string,
  executablePath: string,
  getconf: (() => Promise<string | undefined>) | undefined,
  profile?: RuntimeProfile,
): Promise<Finding[]> {
  const view = profile ? profileView(profile) : nodeView(fs, at, getconf);
  const out: Finding[] = [];
  const check = "runtime";
  let needs: ExecutableNeeds = { kind: "unknown", needsLibstdcxx: false };
  try {
    needs = inspectExecutable(await fs.readBytes(executablePath));
  } catch {
    out.push({ status: "warn", check, message: `cannot read ${executablePath} to inspect it` });
  }
  if (needs.kind === "elf-static") out.push({ status: "ok", check, message: "static executable: no interpreter or libc needed" });
  if (needs.interpreter) {
    if (await view.has(needs.interpreter)) out.push({ status: "ok", check, message: `interpreter ${needs.interpreter} is present${view.where}` });
    else {
      out.push({
        status: "fail",
        check,
        message: `interpreter ${needs.interpreter} of ${executablePath} is missing${view.where}; exec fails with "no such file or directory"`,
        fix: needs.kind === "script" ? `install ${needs.interpreter}, or use the release executable (no interpreter script)` : GLIBC_NODE_FIX,
      });
    }
  }
  if (needs.kind === "elf-static") return out;
  out.push(...(await glibcFindings(needs, view)));
  out.push(...(await libstdcxxFindings(needs, view)));
  return out;
}

/** Whether the node's glibc is new enough for the Node.js runtime (fatal only for a glibc-linked executable). */
async function glibcFindings(needs: ExecutableNeeds, view: RuntimeView): Promise<Finding[]> {
  const out: Finding[] = [];
  const check = "runtime";
  const glibc = await view.glibc();
  const needsGlibc = needs.kind === "elf-dynamic" && !needs.interpreter?.includes("musl");
  if (glibc.version) {
    const v = `${glibc.version[0]}.${glibc.version[1]}`;
    if (versionAtLeast(glibc.version, MIN_GLIBC)) out.push({ status: "ok", check, message: `glibc ${v} (from ${glibc.how}) >= 2.28` });
    else {
      out.push({
        status: needsGlibc ? "fail" : "warn",
        check,
        message: `glibc ${v} is older than 2.28, which the Node.js runtime needs (GLIBC_2.28 not found)`,
        fix: GLIBC_NODE_FIX,
      });
    }
  } else {
    out.push({
      status: needsGlibc ? "fail" : "warn",
      check,
      message: glibc.musl ? "this node uses musl libc; the glibc-linked executable cannot run" : "glibc not found (no getconf, no libc.so.6)",
      fix: GLIBC_NODE_FIX,
    });
  }
  return out;
}

/** Whether libstdc++ is present when the executable (or an unknown one) may need it. */
async function libstdcxxFindings(needs: ExecutableNeeds, view: RuntimeView): Promise<Finding[]> {
  const out: Finding[] = [];
  const check = "runtime";
  if (needs.needsLibstdcxx || needs.kind !== "elf-dynamic") {
    let found: string | undefined;
    for (const dir of LIB_DIRS) if (!found && (await view.has(`${dir}/libstdc++.so.6`))) found = `${dir}/libstdc++.so.6`;
    if (found) out.push({ status: "ok", check, message: `libstdc++ present (${found})${view.where}` });
    else {
      out.push({
        status: needs.needsLibstdcxx ? "fail" : "warn",
        check,
        message: `libstdc++.so.6 not found${view.where}`,
        fix: "install libstdc++ (apt-get install libstdc++6 / dnf install libstdc++), or on a glibc >= 2.36 host copy optional/ecr-credential-provider-libs/ from the release tarball next to the executable",
      });
    }
  }
  return out;
}
