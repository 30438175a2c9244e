// SM3 (GB/T 32905) and SM2 signature verification (GB/T 32918.2, default ID
// "1234567812345678", recommended curve of GB/T 32918.5) for sm chains, whose algorithms
// WebCrypto lacks. Verification only: no secret ever reaches this code. Curve constants
// are those published in GB/T 32918.5.

const IV = [
  0x7380166f, 0x4914b2b9, 0x172442d7, 0xda8a0600, 0xa96f30bc, 0x163138aa, 0xe38dee4d, 0xb0fb0e4e,
];

const rotl = (x, n) => ((x << (n & 31)) | (x >>> ((32 - (n & 31)) & 31))) >>> 0;
const p0 = (x) => (x ^ rotl(x, 9) ^ rotl(x, 17)) >>> 0;
const p1 = (x) => (x ^ rotl(x, 15) ^ rotl(x, 23)) >>> 0;

export function sm3(bytes) {
  const bitLength = BigInt(bytes.length) * 8n;
  const padded = new Uint8Array(Math.ceil((bytes.length + 9) / 64) * 64);
  padded.set(bytes);
  padded[bytes.length] = 0x80;
  new DataView(padded.buffer).setBigUint64(padded.length - 8, bitLength);
  const v = IV.slice();
  const w = new Array(68);
  const w1 = new Array(64);
  const view = new DataView(padded.buffer);
  for (let off = 0; off < padded.length; off += 64) {
    for (let j = 0; j < 16; j++) w[j] = view.getUint32(off + 4 * j);
    for (let j = 16; j < 68; j++) {
      w[j] = (p1(w[j - 16] ^ w[j - 9] ^ rotl(w[j - 3], 15)) ^ rotl(w[j - 13], 7) ^ w[j - 6]) >>> 0;
    }
    for (let j = 0; j < 64; j++) w1[j] = (w[j] ^ w[j + 4]) >>> 0;
    let [a, b, c, d, e, f, g, h] = v;
    for (let j = 0; j < 64; j++) {
      const tj = j < 16 ? 0x79cc4519 : 0x7a879d8a;
      const ss1 = rotl((rotl(a, 12) + e + rotl(tj, j % 32)) >>> 0, 7);
      const ss2 = (ss1 ^ rotl(a, 12)) >>> 0;
      const ff = j < 16 ? a ^ b ^ c : (a & b) | (a & c) | (b & c);
      const gg = j < 16 ? e ^ f ^ g : (e & f) | (~e & g);
      const tt1 = ((ff >>> 0) + d + ss2 + w1[j]) >>> 0;
      const tt2 = ((gg >>> 0) + h + ss1 + w[j]) >>> 0;
      d = c;
      c = rotl(b, 9);
      b = a;
      a = tt1;
      h = g;
      g = rotl(f, 19);
      f = e;
      e = p0(tt2);
    }
    const next = [a, b, c, d, e, f, g, h];
    for (let i = 0; i < 8; i++) v[i] = (v[i] ^ next[i]) >>> 0;
  }
  const out = new Uint8Array(32);
  const outView = new DataView(out.buffer);
  v.forEach((x, i) => outView.setUint32(4 * i, x));
  return out;
}

// The curve y^2 = x^3 + a x + b over F_p with base point G of order n.
const P = 0xfffffffeffffffffffffffffffffffffffffffff00000000ffffffffffffffffn;
const A = 0xfffffffeffffffffffffffffffffffffffffffff00000000fffffffffffffffcn;
const B = 0x28e9fa9e9d9f5e344d5a9e4bcf6509a7f39789f515ab8f92ddbcbd414d940e93n;
const N = 0xfffffffeffffffffffffffffffffffff7203df6b21c6052b53bbf40939d54123n;
const GX = 0x32c4ae2c1f1981195f9904466a39c9948fe30bbff2660be1715a4589334c74c7n;
const GY = 0xbc3736a2f4f6779c59bdcee36b692153d0a9877cc62a474002df32e52139f0a0n;
const ID = new TextEncoder().encode("1234567812345678");

const mod = (x, m = P) => ((x % m) + m) % m;

function inverse(x, m = P) {
  let [a, b, u, v] = [mod(x, m), m, 1n, 0n];
  while (a !== 0n) {
    const q = b / a;
    [a, b] = [b - q * a, a];
    [u, v] = [v - q * u, u];
  }
  return mod(v, m);
}

// Jacobian coordinates [X, Y, Z]; the point at infinity has Z = 0.
const INFINITY = [1n, 1n, 0n];

function double([x, y, z]) {
  if (z === 0n || y === 0n) return INFINITY;
  const yy = mod(y * y);
  const s = mod(4n * x * yy);
  const zz = mod(z * z);
  const m = mod(3n * x * x + A * zz * zz);
  const x3 = mod(m * m - 2n * s);
  return [x3, mod(m * (s - x3) - 8n * yy * yy), mod(2n * y * z)];
}

function add(p, q) {
  if (p[2] === 0n) return q;
  if (q[2] === 0n) return p;
  const [x1, y1, z1] = p;
  const [x2, y2, z2] = q;
  const z1z1 = mod(z1 * z1);
  const z2z2 = mod(z2 * z2);
  const u1 = mod(x1 * z2z2);
  const u2 = mod(x2 * z1z1);
  const s1 = mod(y1 * z2 * z2z2);
  const s2 = mod(y2 * z1 * z1z1);
  if (u1 === u2) return s1 === s2 ? double(p) : INFINITY;
  const hh = mod(u2 - u1);
  const r = mod(s2 - s1);
  const h2 = mod(hh * hh);
  const h3 = mod(h2 * hh);
  const x3 = mod(r * r - h3 - 2n * u1 * h2);
  return [x3, mod(r * (u1 * h2 - x3) - s1 * h3), mod(hh * z1 * z2)];
}

function multiply(k, point) {
  let out = INFINITY;
  for (let i = BigInt(k.toString(2).length) - 1n; i >= 0n; i--) {
    out = double(out);
    if ((k >> i) & 1n) out = add(out, point);
  }
  return out;
}

function affineX([x, , z]) {
  const zi = inverse(z);
  return mod(x * zi * zi);
}

const big = (bytes) => (bytes.length ? BigInt(`0x${Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")}`) : 0n);

function be32(n) {
  const out = new Uint8Array(32);
  for (let i = 31; i >= 0; i--) {
    out[i] = Number(n & 0xffn);
    n >>= 8n;
  }
  return out;
}

// True only for a valid SM2 signature (64 bytes r || s) by a 65-byte uncompressed key.
export function sm2Verify(publicKey, message, signature) {
  if (publicKey.length !== 65 || publicKey[0] !== 4 || signature.length !== 64) return false;
  const x = big(publicKey.slice(1, 33));
  const y = big(publicKey.slice(33));
  if (x >= P || y >= P || mod(y * y - (x * x * x + A * x + B)) !== 0n) return false;
  const r = big(signature.slice(0, 32));
  const s = big(signature.slice(32));
  if (r < 1n || r >= N || s < 1n || s >= N) return false;
  const entl = Uint8Array.of((ID.length * 8) >> 8, (ID.length * 8) & 0xff);
  const za = sm3(new Uint8Array([
    ...entl, ...ID, ...be32(A), ...be32(B), ...be32(GX), ...be32(GY), ...be32(x), ...be32(y),
  ]));
  const e = big(sm3(new Uint8Array([...za, ...message])));
  const t = mod(r + s, N);
  if (t === 0n) return false;
  const point = add(multiply(s, [GX, GY, 1n]), multiply(t, [x, y, 1n]));
  if (point[2] === 0n) return false;
  return mod(e + affineX(point), N) === r;
}
