// Build-time stand-in (build.mjs, sdkShims) for @smithy/core's checksum/crc32/Crc32Node.js: the same class, but node:zlib loads on first use.
// The SDK's version reads zlib.crc32 when the module is evaluated, and every client's runtime config imports the checksum module
// (for Sha256), so each cold run paid for zlib (several ms of CPU) to compute no CRC at all: ECR and STS calls have no checksums.

type Crc32Fn = (data: Uint8Array | string, value?: number) => number;

let nativeCrc32: Crc32Fn | undefined;
/** zlib.crc32 exists in every Node this executable ships with (22.2 and later). */
const crc32 = (): Crc32Fn => (nativeCrc32 ??= process.getBuiltinModule("node:zlib").crc32);

export class Crc32Node {
  readonly digestLength = 4;
  value = 0;

  update(data: Uint8Array): void {
    this.value = crc32()(data, this.value);
  }

  digestSync(): number {
    return this.value >>> 0;
  }

  async digest(): Promise<Uint8Array> {
    const out = new Uint8Array(4);
    new DataView(out.buffer).setUint32(0, this.digestSync(), false);
    return out;
  }

  reset(): void {
    this.value = 0;
  }
}
