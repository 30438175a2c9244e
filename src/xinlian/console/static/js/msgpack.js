// Canonical MessagePack (docs/data-formats.md): the shortest integer forms, map keys sorted
// by their UTF-8 bytes, no floats. Enough to re-encode headers, votes, validator sets,
// transactions and receipts, and to decode call arguments and outputs.

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder("utf-8", { fatal: true });

export function hexToBytes(hex) {
  if (typeof hex !== "string" || hex.length % 2 || /[^0-9a-f]/i.test(hex)) {
    throw new Error("bad hex");
  }
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export function bytesToHex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

export function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

class Writer {
  constructor() {
    this.parts = [];
  }
  byte(...bs) {
    this.parts.push(Uint8Array.from(bs));
  }
  raw(bytes) {
    this.parts.push(bytes);
  }
  sized(value, bits) {
    const b = new Uint8Array(bits / 8);
    const view = new DataView(b.buffer);
    if (bits === 8) view.setUint8(0, value);
    else if (bits === 16) view.setUint16(0, value);
    else if (bits === 32) view.setUint32(0, value);
    else view.setBigUint64(0, BigInt(value));
    this.raw(b);
  }
  bytes() {
    return concat(...this.parts);
  }
}

function writeUint(w, n) {
  const v = BigInt(n);
  if (v < 0n) throw new Error("negative");
  if (v < 128n) w.byte(Number(v));
  else if (v < 0x100n) { w.byte(0xcc); w.sized(Number(v), 8); }
  else if (v < 0x10000n) { w.byte(0xcd); w.sized(Number(v), 16); }
  else if (v < 0x100000000n) { w.byte(0xce); w.sized(Number(v), 32); }
  else { w.byte(0xcf); w.sized(v, 64); }
}

function writeInt(w, n) {
  const v = BigInt(n);
  if (v >= 0n) return writeUint(w, v);
  const b = new Uint8Array(8);
  const view = new DataView(b.buffer);
  if (v >= -32n) w.byte(Number(v) & 0xff);
  else if (v >= -128n) { w.byte(0xd0); view.setInt8(0, Number(v)); w.raw(b.slice(0, 1)); }
  else if (v >= -32768n) { w.byte(0xd1); view.setInt16(0, Number(v)); w.raw(b.slice(0, 2)); }
  else if (v >= -2147483648n) { w.byte(0xd2); view.setInt32(0, Number(v)); w.raw(b.slice(0, 4)); }
  else { w.byte(0xd3); view.setBigInt64(0, v); w.raw(b); }
}

function writeLen(w, n, fix, fixMax, codes) {
  if (fix !== null && n <= fixMax) w.byte(fix | n);
  else if (codes[0] !== null && n < 0x100) { w.byte(codes[0]); w.sized(n, 8); }
  else if (n < 0x10000) { w.byte(codes[1]); w.sized(n, 16); }
  else { w.byte(codes[2]); w.sized(n, 32); }
}

function writeStr(w, s) {
  const b = utf8.encode(s);
  writeLen(w, b.length, 0xa0, 31, [0xd9, 0xda, 0xdb]);
  w.raw(b);
}

function writeBin(w, b) {
  writeLen(w, b.length, null, -1, [0xc4, 0xc5, 0xc6]);
  w.raw(b);
}

function compareBytes(a, b) {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

// A schema says how JSON values map to MessagePack: "s" str, "u" uint, "i" int, "b" bin
// (given as hex), "ss" a map of str to str, [schema] an array of one schema, or
// {fields: [[name, schema], ...]} a record (an array of its fields in order).
function write(w, schema, value) {
  if (schema === "s") writeStr(w, value);
  else if (schema === "u") writeUint(w, value);
  else if (schema === "i") writeInt(w, value);
  else if (schema === "b") writeBin(w, typeof value === "string" ? hexToBytes(value) : value);
  else if (schema === "ss") {
    const keys = Object.keys(value)
      .map((k) => [utf8.encode(k), k])
      .sort((a, b) => compareBytes(a[0], b[0]));
    writeLen(w, keys.length, 0x80, 15, [null, 0xde, 0xdf]);
    for (const [, k] of keys) {
      writeStr(w, k);
      writeStr(w, value[k]);
    }
  } else if (Array.isArray(schema)) {
    writeLen(w, value.length, 0x90, 15, [null, 0xdc, 0xdd]);
    for (const item of value) write(w, schema[0], item);
  } else {
    writeLen(w, schema.fields.length, 0x90, 15, [null, 0xdc, 0xdd]);
    for (const [name, s] of schema.fields) write(w, s, value[name]);
  }
}

export function encode(schema, value) {
  const w = new Writer();
  write(w, schema, value);
  return w.bytes();
}

const B = "b";
export const SCHEMAS = {
  header: {
    fields: [
      ["chain_id", "s"], ["height", "u"], ["time_ms", "u"], ["prev_hash", B], ["tx_root", B],
      ["state_root", B], ["receipts_root", B], ["validators_hash", B],
      ["next_validators_hash", B], ["proposer", B],
    ],
  },
  vote: { fields: [["chain_id", "s"], ["type", "u"], ["height", "u"], ["round", "u"], ["block_hash", B]] },
  validatorSet: {
    fields: [["validators", [{ fields: [["public_key", B], ["power", "u"], ["name", "s"]] }]]],
  },
  tx: {
    fields: [
      ["chain_id", "s"], ["sender", B], ["nonce", "u"], ["target", "s"], ["method", "s"],
      ["args", B], ["gas_limit", "u"], ["expiry", "u"],
    ],
  },
  receipt: {
    fields: [
      ["tx_hash", B], ["status", "u"], ["gas_used", "u"],
      ["events", [{ fields: [["type", "s"], ["attributes", "ss"]] }]],
      ["error", "s"], ["output", B],
    ],
  },
};

// Decoding: any MessagePack value. Integers beyond 2^53 become BigInt; bin becomes
// Uint8Array. Throws on trailing bytes or unknown codes.
export function decode(bytes) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  const need = (n) => {
    if (at + n > bytes.length) throw new Error("truncated");
  };
  const u = (bits) => {
    need(bits / 8);
    let v;
    if (bits === 8) v = view.getUint8(at);
    else if (bits === 16) v = view.getUint16(at);
    else if (bits === 32) v = view.getUint32(at);
    else {
      const big = view.getBigUint64(at);
      v = big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
    }
    at += bits / 8;
    return v;
  };
  const s = (bits) => {
    need(bits / 8);
    let v;
    if (bits === 8) v = view.getInt8(at);
    else if (bits === 16) v = view.getInt16(at);
    else if (bits === 32) v = view.getInt32(at);
    else {
      const big = view.getBigInt64(at);
      v = big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
    }
    at += bits / 8;
    return v;
  };
  const take = (n) => {
    need(n);
    const out = bytes.slice(at, at + n);
    at += n;
    return out;
  };
  const str = (n) => fromUtf8.decode(take(n));
  const arr = (n) => Array.from({ length: n }, () => one());
  const map = (n) => {
    const out = {};
    for (let i = 0; i < n; i++) {
      const k = one();
      out[String(k)] = one();
    }
    return out;
  };
  function one() {
    const c = u(8);
    if (c < 0x80) return c;
    if (c >= 0xe0) return c - 0x100;
    if ((c & 0xf0) === 0x80) return map(c & 0x0f);
    if ((c & 0xf0) === 0x90) return arr(c & 0x0f);
    if ((c & 0xe0) === 0xa0) return str(c & 0x1f);
    switch (c) {
      case 0xc0: return null;
      case 0xc2: return false;
      case 0xc3: return true;
      case 0xc4: return take(u(8));
      case 0xc5: return take(u(16));
      case 0xc6: return take(u(32));
      case 0xcc: return u(8);
      case 0xcd: return u(16);
      case 0xce: return u(32);
      case 0xcf: return u(64);
      case 0xd0: return s(8);
      case 0xd1: return s(16);
      case 0xd2: return s(32);
      case 0xd3: return s(64);
      case 0xd9: return str(u(8));
      case 0xda: return str(u(16));
      case 0xdb: return str(u(32));
      case 0xdc: return arr(u(16));
      case 0xdd: return arr(u(32));
      case 0xde: return map(u(16));
      case 0xdf: return map(u(32));
      default: throw new Error(`unsupported MessagePack code 0x${c.toString(16)}`);
    }
  }
  const value = one();
  if (at !== bytes.length) throw new Error("trailing bytes");
  return value;
}

// Decoded values as JSON-friendly text (bytes as hex, big integers as decimal).
export function toPlain(value) {
  if (value instanceof Uint8Array) return bytesToHex(value);
  if (typeof value === "bigint") return value.toString();
  if (Array.isArray(value)) return value.map(toPlain);
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toPlain(v)]));
  }
  return value;
}
