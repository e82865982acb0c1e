// Strict JSON decoding (Go encoding/json grammar) that records duplicate keys, as the kubelet's strict decoder reports them.

/** A document the kubelet's decoder would reject; the message is the one the kubelet prints. */
export class DecodeFailure extends Error {}

/** Recursive-descent parser over one text; `duplicates` collects the paths of repeated object keys. */
class StrictJsonParser {
  private i = 0;
  constructor(
    private readonly text: string,
    private readonly duplicates: string[],
  ) {}

  parse(): unknown {
    const v = this.value("");
    this.ws();
    if (this.i !== this.text.length) this.fail("invalid character after top-level value");
    return v;
  }

  private ws(): void {
    while (this.i < this.text.length && " \t\r\n".includes(this.text[this.i]!)) this.i++;
  }

  private fail(what: string): never {
    throw new DecodeFailure(`json parse error: ${what} at offset ${this.i}`);
  }

  /** Consumes `c` if it is next (after no whitespace: callers skip it first). */
  private eat(c: string): boolean {
    if (this.text[this.i] !== c) return false;
    this.i++;
    return true;
  }

  private str(): string {
    // eslint-disable-next-line no-control-regex -- JSON strings exclude raw control characters
    const m = /^"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/.exec(this.text.slice(this.i));
    if (!m) return this.fail("invalid string");
    this.i += m[0].length;
    return JSON.parse(m[0]) as string;
  }

  private object(path: string): Record<string, unknown> {
    const obj: Record<string, unknown> = {};
    this.ws();
    if (this.eat("}")) return obj;
    for (;;) {
      this.ws();
      if (this.text[this.i] !== '"') this.fail("expected object key");
      const key = this.str();
      this.ws();
      if (!this.eat(":")) this.fail("expected ':'");
      const child = path === "" ? key : `${path}.${key}`;
      const v = this.value(child);
      if (Object.prototype.hasOwnProperty.call(obj, key)) this.duplicates.push(child);
      obj[key] = v;
      this.ws();
      if (this.eat(",")) continue;
      if (this.eat("}")) return obj;
      this.fail("expected ',' or '}'");
    }
  }

  private array(path: string): unknown[] {
    const arr: unknown[] = [];
    this.ws();
    if (this.eat("]")) return arr;
    for (;;) {
      arr.push(this.value(`${path}[${arr.length}]`));
      this.ws();
      if (this.eat(",")) continue;
      if (this.eat("]")) return arr;
      this.fail("expected ',' or ']'");
    }
  }

  private value(path: string): unknown {
    this.ws();
    if (this.eat("{")) return this.object(path);
    if (this.eat("[")) return this.array(path);
    if (this.text[this.i] === '"') return this.str();
    const lit = /^(?:true|false|null|-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?)/.exec(this.text.slice(this.i));
    if (!lit) return this.fail("invalid character");
    this.i += lit[0].length;
    return JSON.parse(lit[0]);
  }
}

/** Strict JSON parse (Go encoding/json grammar) that records duplicate keys by path instead of silently keeping the last. */
export function parseStrictJson(text: string, duplicates: string[]): unknown {
  return new StrictJsonParser(text, duplicates).parse();
}
