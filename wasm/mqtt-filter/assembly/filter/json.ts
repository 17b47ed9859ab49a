// A small reader for the plugin configuration: one flat JSON object whose values are numbers,
// booleans, strings or null. Anything else is an error that names the offset, so Envoy refuses
// the configuration with a clear log line instead of running with a half-read one.

export class JsonValue {
  constructor(
    public kind: u8, // 0 null, 1 bool, 2 number, 3 string
    public num: f64,
    public str: string,
  ) {}
}

export class FlatJson {
  keys: string[] = [];
  values: JsonValue[] = [];
  error: string = '';
}

class Cursor {
  pos: i32 = 0;
  constructor(public text: string) {}
  peek(): i32 {
    return this.pos < this.text.length ? this.text.charCodeAt(this.pos) : -1;
  }
  skipSpace(): void {
    while (this.pos < this.text.length) {
      const c = this.text.charCodeAt(this.pos);
      if (c != 0x20 && c != 0x09 && c != 0x0a && c != 0x0d) break;
      this.pos++;
    }
  }
}

export function parseFlatJson(text: string): FlatJson {
  const out = new FlatJson();
  const c = new Cursor(text);
  c.skipSpace();
  if (c.peek() == -1) return out; // an empty configuration means all defaults
  if (c.peek() != 0x7b) return fail(out, c, "expected '{'");
  c.pos++;
  c.skipSpace();
  if (c.peek() == 0x7d) {
    c.pos++;
    return trailing(out, c);
  }
  while (true) {
    c.skipSpace();
    if (c.peek() != 0x22) return fail(out, c, 'expected a quoted key');
    const key = readString(c, out);
    if (out.error.length > 0) return out;
    c.skipSpace();
    if (c.peek() != 0x3a) return fail(out, c, "expected ':' after \"" + key + '"');
    c.pos++;
    c.skipSpace();
    const value = readValue(c, out, key);
    if (out.error.length > 0) return out;
    if (out.keys.includes(key)) return fail(out, c, 'key "' + key + '" appears twice');
    out.keys.push(key);
    out.values.push(value);
    c.skipSpace();
    const next = c.peek();
    c.pos++;
    if (next == 0x2c) continue;
    if (next == 0x7d) return trailing(out, c);
    c.pos--;
    return fail(out, c, "expected ',' or '}'");
  }
}

function trailing(out: FlatJson, c: Cursor): FlatJson {
  c.skipSpace();
  if (c.peek() != -1) return fail(out, c, 'unexpected text after the object');
  return out;
}

function fail(out: FlatJson, c: Cursor, message: string): FlatJson {
  out.error = message + ' at offset ' + c.pos.toString();
  return out;
}

function readValue(c: Cursor, out: FlatJson, key: string): JsonValue {
  const ch = c.peek();
  if (ch == 0x22) return new JsonValue(3, 0, readString(c, out));
  if (c.text.startsWith('true', c.pos)) {
    c.pos += 4;
    return new JsonValue(1, 1, '');
  }
  if (c.text.startsWith('false', c.pos)) {
    c.pos += 5;
    return new JsonValue(1, 0, '');
  }
  if (c.text.startsWith('null', c.pos)) {
    c.pos += 4;
    return new JsonValue(0, 0, '');
  }
  if (ch == 0x2d || (ch >= 0x30 && ch <= 0x39)) {
    const start = c.pos;
    c.pos++;
    while (true) {
      const d = c.peek();
      if ((d >= 0x30 && d <= 0x39) || d == 0x2e || d == 0x65 || d == 0x45 || d == 0x2b || d == 0x2d) c.pos++;
      else break;
    }
    const n = parseFloat(c.text.substring(start, c.pos));
    if (isNaN(n)) fail(out, c, '"' + key + '" is not a number');
    return new JsonValue(2, n, '');
  }
  fail(out, c, '"' + key + '" must be a number, boolean, string or null (objects and arrays are not read)');
  return new JsonValue(0, 0, '');
}

function readString(c: Cursor, out: FlatJson): string {
  c.pos++; // opening quote
  let s = '';
  while (true) {
    // A run without escapes is copied once: a long value (saltedIds) must not cost one copy per character.
    const run = c.pos;
    while (c.pos < c.text.length) {
      const r = c.text.charCodeAt(c.pos);
      if (r == 0x22 || r == 0x5c) break;
      c.pos++;
    }
    if (c.pos > run) s += c.text.substring(run, c.pos);
    const ch = c.peek();
    if (ch == -1) {
      fail(out, c, 'unterminated string');
      return '';
    }
    c.pos++;
    if (ch == 0x22) return s;
    if (ch == 0x5c) {
      const e = c.peek();
      c.pos++;
      if (e == 0x22 || e == 0x5c || e == 0x2f) s += String.fromCharCode(e);
      else if (e == 0x6e) s += '\n';
      else if (e == 0x74) s += '\t';
      else {
        fail(out, c, 'unsupported escape in string');
        return '';
      }
    } else {
      s += String.fromCharCode(ch);
    }
  }
  return s; // not reached: the loop returns
}
