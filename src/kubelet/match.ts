// The kubelet's image matching (keyring.go URLsMatchStr/ParseSchemelessURL/SplitURL), re-typed from Go so node tooling can predict it.

/**
 * A failure of Go's `net/url.Parse` or `path/filepath.Match`, with Go's wording where it matters
 * (the kubelet prints it in "match image is invalid: <message>").
 */
export class GoMatchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "GoMatchError";
  }
}

/** The parts of a Go `*url.URL` the kubelet's matcher reads. */
export interface GoUrl {
  /** Lower-cased scheme ("" after ParseSchemelessURL clears it). */
  scheme: string;
  /** Host with optional `:port`, unescaped, as Go's `url.Host`. */
  host: string;
  /** Unescaped path, as Go's `url.Path`. */
  path: string;
}

/** Options for behaviour that changed between the Go releases kubelets are built with. */
export interface GoUrlOptions {
  /**
   * true (default, Go ≥ 1.24/1.26 kubelets): a `[` anywhere but at the start of the host is
   * "invalid IP-literal", and several colons in an https host are rejected.
   * false: the older, lax parser (Go 1.19-era), under which `registry-[0-9].io` parses.
   */
  strictHost?: boolean;
}

const HEX = /^[0-9a-fA-F]$/;

/** Characters Go's `shouldEscape(c, encodeHost)` lets through unescaped (ASCII only). */
function isHostByteAllowed(c: string): boolean {
  if (/^[A-Za-z0-9]$/.test(c)) return true;
  return "-_.~!$&'()*+,;=:[]<>\"".includes(c);
}

/** Go's `unescape` for the host (mode encodeHost) and path/fragment (no character checks). */
function goUnescape(s: string, mode: "host" | "zone" | "path"): string {
  // Go unescapes to raw bytes; collect them and decode as UTF-8 so "%c3%a4" equals "ä".
  const bytes: number[] = [];
  for (let i = 0; i < s.length;) {
    const c = s[i]!;
    if (c === "%") {
      const a = s[i + 1];
      const b = s[i + 2];
      if (a === undefined || b === undefined || !HEX.test(a) || !HEX.test(b)) {
        throw new GoMatchError(`invalid URL escape ${JSON.stringify(s.slice(i, i + 3))}`);
      }
      if (mode === "host" && parseInt(a, 16) < 8 && s.slice(i, i + 3) !== "%25") {
        throw new GoMatchError(`invalid URL escape ${JSON.stringify(s.slice(i, i + 3))}`);
      }
      bytes.push(parseInt(a + b, 16));
      i += 3;
      continue;
    }
    if (mode !== "path" && c.charCodeAt(0) < 0x80 && !isHostByteAllowed(c)) {
      throw new GoMatchError(`invalid character ${JSON.stringify(c)} in host name`);
    }
    bytes.push(...Buffer.from(c));
    i += 1;
  }
  return new TextDecoder().decode(Uint8Array.from(bytes));
}

function validOptionalPort(port: string): boolean {
  if (port === "") return true;
  if (port[0] !== ":") return false;
  return /^[0-9]*$/.test(port.slice(1));
}

function parseHost(host: string, options: GoUrlOptions): string {
  const strict = options.strictHost ?? true;
  const open = host.lastIndexOf("[");
  if (strict && open > 0) throw new GoMatchError("invalid IP-literal");
  if (host.startsWith("[")) {
    const close = host.lastIndexOf("]");
    if (close < 0) throw new GoMatchError("missing ']' in host");
    const colonPort = host.slice(close + 1);
    if (!validOptionalPort(colonPort)) throw new GoMatchError(`invalid port ${JSON.stringify(colonPort)} after host`);
    const hostname = host.slice(1, close);
    const zoneAt = hostname.indexOf("%25");
    const addr = goUnescape(zoneAt >= 0 ? hostname.slice(0, zoneAt) : hostname, "host");
    const zone = zoneAt >= 0 ? goUnescape(hostname.slice(zoneAt), "zone") : "";
    const inner = addr + zone;
    // netip.ParseAddr, approximated: an IPv6 address (optionally with an IPv4 tail), never a bare IPv4.
    if (strict && (!/^[0-9a-fA-F:.]+$/.test(addr) || !addr.includes(":"))) throw new GoMatchError("invalid host");
    return `[${inner}]${colonPort}`;
  }
  const first = host.indexOf(":");
  if (first !== -1) {
    const last = host.lastIndexOf(":");
    // Go 1.26 rejects several colons in http(s) hosts; older releases took the last one.
    const at = strict ? first : last;
    const colonPort = host.slice(at);
    if (!validOptionalPort(colonPort)) throw new GoMatchError(`invalid port ${JSON.stringify(colonPort)} after host`);
  }
  return goUnescape(host, "host");
}

/**
 * Go's `url.Parse` restricted to absolute `scheme://authority/path?query#fragment` input, which is
 * all the kubelet ever feeds it (it prefixes `https://`).
 * @throws GoMatchError where Go returns an error.
 */
export function parseGoUrl(raw: string, options: GoUrlOptions = {}): GoUrl {
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(raw)) throw new GoMatchError("net/url: invalid control character in URL");
  const hashAt = raw.indexOf("#");
  const noFrag = hashAt === -1 ? raw : raw.slice(0, hashAt);
  if (hashAt !== -1) goUnescape(raw.slice(hashAt + 1), "path");
  const schemeMatch = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(noFrag);
  if (!schemeMatch) throw new GoMatchError("missing protocol scheme");
  const scheme = schemeMatch[1]!.toLowerCase();
  let rest = noFrag.slice(schemeMatch[0].length);
  if (rest.endsWith("?") && rest.split("?").length === 2) rest = rest.slice(0, -1);
  else {
    const q = rest.indexOf("?");
    if (q !== -1) rest = rest.slice(0, q);
  }
  if (!rest.startsWith("/")) return { scheme, host: "", path: "" };
  let host = "";
  if (rest.startsWith("//")) {
    let authority = rest.slice(2);
    rest = "";
    const slash = authority.indexOf("/");
    if (slash >= 0) {
      rest = authority.slice(slash);
      authority = authority.slice(0, slash);
    }
    const at = authority.lastIndexOf("@");
    if (at >= 0 && !/^[A-Za-z0-9\-._:~!$&'()*+,;=%@]*$/.test(authority.slice(0, at))) {
      throw new GoMatchError("net/url: invalid userinfo");
    }
    host = parseHost(at >= 0 ? authority.slice(at + 1) : authority, options);
  }
  return { scheme, host, path: goUnescape(rest, "path") };
}

/**
 * The kubelet's `ParseSchemelessURL`: parse `"https://" + s` and clear the scheme.
 * @throws GoMatchError when Go's parser fails (the kubelet then refuses a matchImages entry).
 */
export function parseSchemelessUrl(schemeless: string, options: GoUrlOptions = {}): GoUrl {
  return { ...parseGoUrl(`https://${schemeless}`, options), scheme: "" };
}

/** Go's `net.SplitHostPort`; returns undefined where Go returns an error. */
function splitHostPort(hostport: string): { host: string; port: string } | undefined {
  const i = hostport.lastIndexOf(":");
  if (i < 0) return undefined;
  let host: string;
  let j = 0;
  let k = 0;
  if (hostport.startsWith("[")) {
    const end = hostport.indexOf("]");
    if (end < 0 || end + 1 === hostport.length || end + 1 !== i) return undefined;
    host = hostport.slice(1, end);
    j = 1;
    k = end + 1;
  } else {
    host = hostport.slice(0, i);
    if (host.includes(":")) return undefined;
  }
  if (hostport.slice(j).includes("[") || hostport.slice(k).includes("]")) return undefined;
  return { host, port: hostport.slice(i + 1) };
}

/** The kubelet's `SplitURL`: host labels split on "." and the port ("" when absent or unparsable). */
export function splitUrl(url: GoUrl): { parts: string[]; port: string } {
  const hp = splitHostPort(url.host);
  const host = hp ? hp.host : url.host;
  return { parts: host.split("."), port: hp ? hp.port : "" };
}

/** Go's `getEsc` inside a character class. */
function getEsc(chunk: string[], at: number): { r: string; next: number } {
  let i = at;
  if (i >= chunk.length || chunk[i] === "-" || chunk[i] === "]") throw new GoMatchError("syntax error in pattern");
  if (chunk[i] === "\\") {
    i += 1;
    if (i >= chunk.length) throw new GoMatchError("syntax error in pattern");
  }
  const r = chunk[i]!;
  i += 1;
  if (i >= chunk.length) throw new GoMatchError("syntax error in pattern");
  return { r, next: i };
}

/** Go's `matchChunk` (Linux: `\` escapes, `/` is the separator). Returns the rest of `s`, or undefined. */
function matchChunk(chunk: string[], s: string[]): string[] | undefined {
  let failed = false;
  let c = 0;
  let si = 0;
  while (c < chunk.length) {
    failed = failed || si >= s.length;
    const ch = chunk[c]!;
    if (ch === "[") {
      let r = "";
      if (!failed) {
        r = s[si]!;
        si += 1;
      }
      c += 1;
      let negated = false;
      if (c < chunk.length && chunk[c] === "^") {
        negated = true;
        c += 1;
      }
      let match = false;
      let nrange = 0;
      for (;;) {
        if (c < chunk.length && chunk[c] === "]" && nrange > 0) {
          c += 1;
          break;
        }
        const lo = getEsc(chunk, c);
        c = lo.next;
        let hi = lo.r;
        if (chunk[c] === "-") {
          const h = getEsc(chunk, c + 1);
          hi = h.r;
          c = h.next;
        }
        if (lo.r.codePointAt(0)! <= r.codePointAt(0)! && r.codePointAt(0)! <= hi.codePointAt(0)!) match = true;
        nrange += 1;
      }
      failed = failed || match === negated;
    } else if (ch === "?") {
      if (!failed) {
        failed = s[si] === "/";
        si += 1;
      }
      c += 1;
    } else {
      if (ch === "\\") {
        c += 1;
        if (c >= chunk.length) throw new GoMatchError("syntax error in pattern");
      }
      if (!failed) {
        failed = chunk[c] !== s[si];
        si += 1;
      }
      c += 1;
    }
  }
  return failed ? undefined : s.slice(si);
}

function scanChunk(pattern: string[]): { star: boolean; chunk: string[]; rest: string[] } {
  let p = 0;
  let star = false;
  while (p < pattern.length && pattern[p] === "*") {
    p += 1;
    star = true;
  }
  const body = pattern.slice(p);
  let inrange = false;
  for (let i = 0; i < body.length; i++) {
    const ch = body[i];
    if (ch === "\\") {
      if (i + 1 < body.length) i += 1;
    } else if (ch === "[") inrange = true;
    else if (ch === "]") inrange = false;
    else if (ch === "*" && !inrange) return { star, chunk: body.slice(0, i), rest: body.slice(i) };
  }
  return { star, chunk: body, rest: [] };
}

/**
 * Go's `path/filepath.Match` on Linux, rune by rune: `*` any run without "/", `?` one rune,
 * `[...]`/`[^...]` classes, `\` escapes.
 * @throws GoMatchError ("syntax error in pattern") for a malformed pattern, as Go does once it reaches it.
 */
export function filepathMatch(pattern: string, name: string): boolean {
  let pat = Array.from(pattern);
  let nm = Array.from(name);
  outer: while (pat.length > 0) {
    const { star, chunk, rest } = scanChunk(pat);
    pat = rest;
    if (star && chunk.length === 0) return !nm.includes("/");
    let err: unknown;
    let t: string[] | undefined;
    try {
      t = matchChunk(chunk, nm);
    } catch (e) {
      err = e;
    }
    if (t !== undefined && (t.length === 0 || pat.length > 0)) {
      nm = t;
      continue;
    }
    if (err) throw err;
    if (star) {
      for (let i = 0; i < nm.length && nm[i] !== "/"; i++) {
        const tt = matchChunk(chunk, nm.slice(i + 1));
        if (tt !== undefined) {
          if (pat.length === 0 && tt.length > 0) continue;
          nm = tt;
          continue outer;
        }
      }
    }
    return false;
  }
  return nm.length === 0;
}

/**
 * The kubelet's `URLsMatch`: equal ports, equal label counts, the glob's path a plain string
 * prefix of the target's path, each host label matched with `filepath.Match` (case-sensitive).
 * @throws GoMatchError when a label pattern is malformed.
 */
export function urlsMatch(glob: GoUrl, target: GoUrl): boolean {
  const g = splitUrl(glob);
  const t = splitUrl(target);
  if (g.port !== t.port) return false;
  if (g.parts.length !== t.parts.length) return false;
  if (!target.path.startsWith(glob.path)) return false;
  return g.parts.every((part, i) => filepathMatch(part, t.parts[i]!));
}

/**
 * The kubelet's `URLsMatchStr(glob, target)`, used for `matchImages` entries against the requested image.
 * @throws GoMatchError when either string does not parse (the kubelet treats that as "no match"
 * at lookup time and as a validation error for matchImages).
 */
export function urlsMatchStr(glob: string, target: string, options: GoUrlOptions = {}): boolean {
  return urlsMatch(parseSchemelessUrl(glob, options), parseSchemelessUrl(target, options));
}

/** Like {@link urlsMatchStr} but a parse error is "no match", as in `isImageAllowed`. */
export function imageMatches(glob: string, image: string, options: GoUrlOptions = {}): boolean {
  try {
    return urlsMatchStr(glob, image, options);
  } catch {
    return false;
  }
}

/**
 * The key `BasicDockerKeyring.Add` stores for a returned `auth` key: scheme stripped, a leading
 * `/v1/` or `/v2/` path cut, a bare "/" dropped. Undefined when the key is unparsable (dropped).
 */
export function keyringKey(authKey: string, options: GoUrlOptions = {}): string | undefined {
  const value = authKey.startsWith("https://") || authKey.startsWith("http://") ? authKey : `https://${authKey}`;
  let parsed: GoUrl;
  try {
    parsed = parseGoUrl(value, options);
  } catch {
    return undefined;
  }
  let path = parsed.path;
  if (path.startsWith("/v2/") || path.startsWith("/v1/")) path = path.slice(3);
  return path.length > 0 && path !== "/" ? parsed.host + path : parsed.host;
}

/** The keyring's `isDefaultRegistryMatch`: Docker Hub images may use credentials stored under `index.docker.io`. */
function isDefaultRegistryMatch(image: string): boolean {
  const slash = image.indexOf("/");
  const first = slash === -1 ? image : image.slice(0, slash);
  if (first.length === 0) return false;
  if (slash === -1) return true;
  if (first === "docker.io" || first === "index.docker.io") return true;
  return !/[.:]/.test(first);
}

/**
 * Whether the kubelet's keyring would apply credentials returned under `authKey` to `image`
 * (`Add` + `Lookup` with that single key), including the Docker Hub `index.docker.io` fallback.
 */
export function keyringMatches(authKey: string, image: string, options: GoUrlOptions = {}): boolean {
  const key = keyringKey(authKey, options);
  if (key === undefined) return false;
  if (imageMatches(key, image, options)) return true;
  return key === "index.docker.io" && isDefaultRegistryMatch(image);
}

// distribution/reference grammar (regexp.go), used by ParseNormalizedNamed.
const DOMAIN_COMPONENT = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const DOMAIN = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[(?:[a-fA-F0-9:]+)\\])(?::[0-9]+)?`;
const PATH_COMPONENT = "[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*";
const NAME = `(?:${DOMAIN}/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*`;
const TAG = "[\\w][\\w.-]{0,127}";
const DIGEST = "[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9a-fA-F]{32,}";
const REFERENCE = new RegExp(`^(${NAME})(?::(${TAG}))?(?:@(${DIGEST}))?$`);

/**
 * What the kubelet sends as `image` for a pod's image string: `reference.ParseNormalizedNamed(s).Name()`
 * (Docker Hub names expanded to `docker.io/library/…`, tag and digest dropped, port kept).
 * Returns undefined for strings the kubelet refuses before any credential lookup.
 */
export function normalizeImageName(image: string): string | undefined {
  if (/^[a-f0-9]{64}$/.test(image)) return undefined;
  const slash = image.indexOf("/");
  let domain: string;
  let remainder: string;
  const first = slash === -1 ? "" : image.slice(0, slash);
  if (slash === -1 || (!/[.:]/.test(first) && first !== "localhost" && first.toLowerCase() === first)) {
    domain = "docker.io";
    remainder = image;
  } else {
    domain = first;
    remainder = image.slice(slash + 1);
  }
  if (domain === "index.docker.io") domain = "docker.io";
  if (domain === "docker.io" && !remainder.includes("/")) remainder = `library/${remainder}`;
  const m = REFERENCE.exec(`${domain}/${remainder}`);
  if (!m) return undefined;
  const name = m[1]!;
  if (name.length > 255) return undefined;
  return name;
}
