// Reads protobuf text format as Caffe writes it (deploy.prototxt): a generic tree of fields, and a
// typed view of that tree as the same CaffeNet records caffe.ts reads from a .caffemodel, so a net
// defined by a prototxt can take its weights from a caffemodel by layer name (mergeCaffeWeights).
// Grammar: https://protobuf.dev/reference/protobuf/textformat-spec/ (the parts Caffe files use).

import { layerParams, v1LayerType } from './caffe-params.js';
import { netInputs } from './caffe.js';
import type { CaffeBlob, CaffeLayer, CaffeNet } from './caffe.js';
import { FormatError } from './protobuf.js';
import type { FieldValue, Fields } from './protobuf.js';

/** A text-format syntax error: names the file, line and column (both 1-based). */
export class TextFormatError extends FormatError {
  /** 1-based line of the offending token. */
  readonly line: number;
  /** 1-based column of the offending token. */
  readonly column: number;

  /** @param file name, @param line/column 1-based position, @param detail what is wrong */
  constructor(file: string, line: number, column: number, detail: string, offset: number) {
    super(file, `line ${line}, column ${column}: ${detail}`, offset);
    this.name = 'TextFormatError';
    this.line = line;
    this.column = column;
  }
}

type TokenKind = 'ident' | 'number' | 'string' | 'punct' | 'end';

interface Token {
  readonly kind: TokenKind;
  /** Identifier or punctuation text, decoded string contents, or number source text. */
  readonly text: string;
  readonly offset: number;
  readonly line: number;
  readonly column: number;
}

const IDENT_START = /[A-Za-z_]/;
const IDENT_REST = /[A-Za-z0-9_]/;
const NUMBER = /^-?(?:0[xX][0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?[fF]?)/;
const ESCAPES: Readonly<Record<string, string>> = {
  n: '\n',
  t: '\t',
  r: '\r',
  '\\': '\\',
  "'": "'",
  '"': '"',
  a: '\x07',
  b: '\b',
  f: '\f',
  v: '\v',
  '?': '?',
};

/** Splits text-format source into tokens, tracking line and column for errors. */
class Lexer {
  readonly #src: string;
  readonly #file: string;
  #pos = 0;
  #line = 1;
  #lineStart = 0;

  constructor(src: string, file: string) {
    this.#src = src;
    this.#file = file;
  }

  fail(detail: string, at: { offset: number; line: number; column: number }): never {
    throw new TextFormatError(this.#file, at.line, at.column, detail, at.offset);
  }

  #skipSpace(): void {
    const s = this.#src;
    while (this.#pos < s.length) {
      const c = s[this.#pos];
      if (c === '\n') {
        this.#pos++;
        this.#line++;
        this.#lineStart = this.#pos;
      } else if (c === ' ' || c === '\t' || c === '\r' || c === '\f' || c === '\v') {
        this.#pos++;
      } else if (c === '#') {
        while (this.#pos < s.length && s[this.#pos] !== '\n') this.#pos++;
      } else return;
    }
  }

  next(): Token {
    this.#skipSpace();
    const s = this.#src;
    const start = this.#pos;
    const at = { offset: start, line: this.#line, column: start - this.#lineStart + 1 };
    const tok = (kind: TokenKind, text: string): Token => ({ kind, text, ...at });
    if (start >= s.length) return tok('end', '');
    const c = s[start] as string;
    if (IDENT_START.test(c)) {
      let end = start + 1;
      while (end < s.length && IDENT_REST.test(s[end] as string)) end++;
      this.#pos = end;
      return tok('ident', s.slice(start, end));
    }
    if (c === '-' || c === '.' || (c >= '0' && c <= '9')) {
      const m = NUMBER.exec(s.slice(start, start + 64));
      if (m) {
        this.#pos = start + m[0].length;
        return tok('number', m[0]);
      }
      if (c === '-') {
        this.#pos = start + 1;
        return tok('punct', '-');
      }
    }
    if (c === '"' || c === "'") return tok('string', this.#string(c, at));
    if ('{}<>:[],;'.includes(c)) {
      this.#pos = start + 1;
      return tok('punct', c);
    }
    return this.fail(`unexpected character ${JSON.stringify(c)}`, at);
  }

  #string(quote: string, at: { offset: number; line: number; column: number }): string {
    const s = this.#src;
    let out = '';
    let i = this.#pos + 1;
    for (;;) {
      const c = s[i];
      if (c === undefined || c === '\n') return this.fail('unterminated string', at);
      if (c === quote) break;
      if (c !== '\\') {
        out += c;
        i++;
        continue;
      }
      const e = s[i + 1] ?? '';
      if (ESCAPES[e] !== undefined) {
        out += ESCAPES[e];
        i += 2;
      } else if (e === 'x' || e === 'X') {
        const hex = /^[0-9a-fA-F]{1,2}/.exec(s.slice(i + 2, i + 4))?.[0] ?? '';
        if (hex === '') return this.fail('\\x escape without hex digits', at);
        out += String.fromCharCode(parseInt(hex, 16));
        i += 2 + hex.length;
      } else if (e >= '0' && e <= '7') {
        const oct = /^[0-7]{1,3}/.exec(s.slice(i + 1, i + 4))?.[0] ?? '';
        out += String.fromCharCode(parseInt(oct, 8));
        i += 1 + oct.length;
      } else return this.fail(`unknown escape \\${e}`, at);
    }
    this.#pos = i + 1;
    return out;
  }
}

/** Recursive-descent parser over the lexer with one token of lookahead. */
class Parser {
  readonly #lex: Lexer;
  #tok: Token;

  constructor(src: string, file: string) {
    this.#lex = new Lexer(src, file);
    this.#tok = this.#lex.next();
  }

  #advance(): Token {
    const t = this.#tok;
    this.#tok = this.#lex.next();
    return t;
  }

  #describe(t: Token): string {
    if (t.kind === 'end') return 'end of file';
    if (t.kind === 'string') return `string ${JSON.stringify(t.text)}`;
    return `"${t.text}"`;
  }

  #fail(detail: string, t: Token = this.#tok): never {
    return this.#lex.fail(detail, t);
  }

  #isPunct(text: string): boolean {
    return this.#tok.kind === 'punct' && this.#tok.text === text;
  }

  /** message := field* ; ends at `close` ("}" or ">") or at end of file for the top level. */
  message(close: string | null): Fields {
    const fields: Fields = new Map();
    for (;;) {
      const t = this.#tok;
      if (close === null && t.kind === 'end') return fields;
      if (close !== null && this.#isPunct(close)) {
        this.#advance();
        return fields;
      }
      if (t.kind === 'end') return this.#fail(`missing "${close}" before end of file`);
      if (t.kind !== 'ident')
        return this.#fail(`expected a field name, found ${this.#describe(t)}`);
      this.#advance();
      const list = fields.get(t.text) ?? [];
      fields.set(t.text, list);
      this.#fieldValue(t.text, list);
      if (this.#isPunct(',') || this.#isPunct(';')) this.#advance();
    }
  }

  #fieldValue(name: string, list: FieldValue[]): void {
    const colon = this.#isPunct(':');
    if (colon) this.#advance();
    if (this.#isPunct('{') || this.#isPunct('<')) {
      const open = this.#advance().text;
      list.push(this.message(open === '{' ? '}' : '>'));
      return;
    }
    if (!colon) {
      return this.#fail(
        `expected ":" or "{" after field name "${name}", found ${this.#describe(this.#tok)}`,
      );
    }
    if (this.#isPunct('[')) {
      this.#advance();
      if (this.#isPunct(']')) {
        this.#advance();
        return;
      }
      for (;;) {
        if (this.#isPunct('{') || this.#isPunct('<')) {
          const open = this.#advance().text;
          list.push(this.message(open === '{' ? '}' : '>'));
        } else list.push(this.#scalar(name));
        if (this.#isPunct(']')) {
          this.#advance();
          return;
        }
        if (!this.#isPunct(',')) return this.#fail(`expected "," or "]" in the list of "${name}"`);
        this.#advance();
      }
    }
    list.push(this.#scalar(name));
  }

  #scalar(name: string): FieldValue {
    const t = this.#tok;
    if (t.kind === 'string') {
      let text = '';
      // Adjacent string literals concatenate, as in C and in the text-format spec.
      while (this.#tok.kind === 'string') text += this.#advance().text;
      return text;
    }
    if (t.kind === 'number') {
      this.#advance();
      return parseNumber(t.text);
    }
    if (this.#isPunct('-')) {
      this.#advance();
      const id = this.#tok;
      if (id.kind === 'ident' && /^(inf|infinity|nan)$/i.test(id.text)) {
        this.#advance();
        return -parseSpecial(id.text);
      }
      return this.#fail(`expected a number after "-" for "${name}"`, id);
    }
    if (t.kind === 'ident') {
      this.#advance();
      if (t.text === 'true' || t.text === 'True') return true;
      if (t.text === 'false' || t.text === 'False') return false;
      if (/^(inf|infinity|nan)$/i.test(t.text)) return parseSpecial(t.text);
      return t.text;
    }
    return this.#fail(`expected a value for "${name}", found ${this.#describe(t)}`);
  }
}

function parseSpecial(text: string): number {
  return text.toLowerCase() === 'nan' ? NaN : Infinity;
}

function parseNumber(text: string): number {
  const body = /^-?0[xX]/.test(text) ? text : text.replace(/[fF]$/, '');
  if (/^-?0[xX]/.test(body)) {
    const v = parseInt(body.replace('-', ''), 16);
    return body.startsWith('-') ? -v : v;
  }
  return Number(body);
}

/**
 * Parses protobuf text format into a generic tree: field name → values in order. Numbers become
 * numbers, quoted strings and enum identifiers become strings, true/false become booleans, and
 * nested messages become nested maps. Throws TextFormatError naming line and column.
 */
export function parseTextFormat(text: string, file = '<prototxt>'): Fields {
  // A UTF-8 byte-order mark, which some editors write, is not part of the text format.
  return new Parser(text.replace(/^\uFEFF/, ''), file).message(null);
}

function str(f: Fields, name: string, file: string, where: string): string {
  const list = f.get(name) ?? [];
  const v = list[list.length - 1];
  if (v === undefined) return '';
  if (typeof v !== 'string') {
    throw new FormatError(file, `${where}: ${name} should be a string, got ${JSON.stringify(v)}`);
  }
  return v;
}

function strs(f: Fields, name: string, file: string, where: string): string[] {
  return (f.get(name) ?? []).map((v) => {
    if (typeof v !== 'string') {
      throw new FormatError(file, `${where}: ${name} should be a string, got ${JSON.stringify(v)}`);
    }
    return v;
  });
}

function nums(f: Fields, name: string, file: string, where: string): number[] {
  return (f.get(name) ?? []).map((v) => {
    if (typeof v !== 'number') {
      throw new FormatError(file, `${where}: ${name} should be a number, got ${JSON.stringify(v)}`);
    }
    return v;
  });
}

function messages(f: Fields, name: string): Fields[] {
  return (f.get(name) ?? []).filter((v): v is Fields => typeof v === 'object');
}

/** Text-format blobs (rare in deploy files, but legal): BlobProto with shape or legacy dims. */
function textBlob(f: Fields, file: string, where: string): CaffeBlob {
  const data = Float32Array.from([
    ...nums(f, 'data', file, where),
    ...nums(f, 'double_data', file, where),
  ]);
  const shapeMsg = messages(f, 'shape')[0];
  const legacy = ['num', 'channels', 'height', 'width'];
  const shape = shapeMsg
    ? nums(shapeMsg, 'dim', file, where)
    : legacy.some((k) => f.has(k))
      ? legacy.map((k) => nums(f, k, file, where).at(-1) ?? 0)
      : [data.length];
  return { shape, data };
}

function textLayer(f: Fields, v1: boolean, index: number, file: string): CaffeLayer {
  const where = `layer ${index}`;
  const name = str(f, 'name', file, where);
  const label = name ? `layer "${name}"` : where;
  const rawType = (f.get('type') ?? []).at(-1);
  let type = '';
  if (typeof rawType === 'string') type = v1 ? (v1LayerType(rawType) ?? rawType) : rawType;
  else if (typeof rawType === 'number' && v1) type = v1LayerType(rawType) ?? `V1_TYPE_${rawType}`;
  else if (rawType !== undefined) {
    throw new FormatError(
      file,
      `${label}: type should be a string, got ${JSON.stringify(rawType)}`,
    );
  }
  const include = messages(f, 'include')[0];
  const phase = include ? (include.get('phase') ?? []).at(-1) : undefined;
  return {
    name,
    type,
    bottoms: strs(f, 'bottom', file, label),
    tops: strs(f, 'top', file, label),
    blobs: messages(f, 'blobs').map((b, i) => textBlob(b, file, `${label} blob ${i}`)),
    params: layerParams(f, type, file, name),
    phase:
      phase === 'TRAIN' || phase === 0 ? 'TRAIN' : phase === 'TEST' || phase === 1 ? 'TEST' : null,
  };
}

/**
 * Maps a parsed text-format NetParameter to the CaffeNet records: `layer { }` (V2) or
 * `layers { }` (V1, enum types mapped to V2 names), and inputs from `input` + `input_dim` ×4 or
 * `input_shape { dim }`. Blobs are empty unless the text holds them.
 */
export function caffeNetFromText(tree: Fields, file = '<prototxt>'): CaffeNet {
  const v2 = messages(tree, 'layer');
  const v1 = messages(tree, 'layers');
  const layers = [
    ...v1.map((l, i) => textLayer(l, true, i, file)),
    ...v2.map((l, i) => textLayer(l, false, v1.length + i, file)),
  ];
  const shapes = messages(tree, 'input_shape').map((s) => nums(s, 'dim', file, 'input_shape'));
  return {
    name: str(tree, 'name', file, 'net'),
    inputs: netInputs(
      strs(tree, 'input', file, 'net'),
      shapes,
      nums(tree, 'input_dim', file, 'net'),
      file,
    ),
    layers,
  };
}

/** Parses a deploy.prototxt source text straight to CaffeNet records. */
export function parsePrototxt(text: string, file = '<prototxt>'): CaffeNet {
  return caffeNetFromText(parseTextFormat(text, file), file);
}
