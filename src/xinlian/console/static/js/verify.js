// Checks computed in the browser: the block hash from the header's canonical bytes, the
// Merkle paths of a transaction and its receipt, the sender's signature, and the commit
// certificate (precommit signatures of more than two thirds of the voting power).
// ed25519 chains use WebCrypto (SHA-256, Ed25519); sm chains use sm.js (SM3, SM2). A check
// the browser cannot do (no Ed25519 in this WebCrypto, an unknown suite) reports "not
// checked in the browser" and says why.

import { SCHEMAS, bytesToHex, concat, decode, encode, hexToBytes } from "./msgpack.js";
import { sm2Verify, sm3 } from "./sm.js";

const LEAF = Uint8Array.of(0);
const NODE = Uint8Array.of(1);

export const OK = "ok";
export const FAILED = "failed";
export const UNCHECKED = "unchecked";

export async function sha256(bytes) {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
}

export function suiteCheckable(suite) {
  return suite === "sm" || (suite === "ed25519" && Boolean(globalThis.crypto && crypto.subtle));
}

// The suite's hash: SHA-256 (ed25519) or SM3 (sm).
export async function suiteHash(suite, bytes) {
  return suite === "sm" ? sm3(bytes) : sha256(bytes);
}

// Whether the suite's signatures can be checked here.
async function signaturesCheckable(suite) {
  return suite === "sm" || (await ed25519Available());
}

async function suiteVerify(suite, publicKeyHex, message, signatureHex) {
  if (suite === "sm") {
    try {
      return sm2Verify(hexToBytes(publicKeyHex), message, hexToBytes(signatureHex));
    } catch (_) {
      return false;
    }
  }
  return ed25519Verify(publicKeyHex, message, signatureHex);
}

let ed25519Support = null;

// Whether this browser's WebCrypto verifies Ed25519 (Chromium 137+, Firefox, Safari 17+).
export async function ed25519Available() {
  if (ed25519Support === null) {
    try {
      await crypto.subtle.importKey("raw", new Uint8Array(32), { name: "Ed25519" }, false, [
        "verify",
      ]);
      ed25519Support = true;
    } catch (_) {
      ed25519Support = false;
    }
  }
  return ed25519Support;
}

async function ed25519Verify(publicKeyHex, message, signatureHex) {
  try {
    const key = await crypto.subtle.importKey(
      "raw", hexToBytes(publicKeyHex), { name: "Ed25519" }, false, ["verify"],
    );
    return await crypto.subtle.verify({ name: "Ed25519" }, key, hexToBytes(signatureHex), message);
  } catch (_) {
    return false;
  }
}

// The root recomputed from a leaf's data and its path; null when the path has a bad shape.
export async function merkleRootFromProof(suite, leafData, proof) {
  const H = (bytes) => suiteHash(suite, bytes);
  let { index: idx, size } = proof;
  const siblings = proof.siblings.map(hexToBytes);
  if (!(idx >= 0 && idx < size)) return null;
  let node = await H(concat(LEAF, leafData));
  let used = 0;
  while (size > 1) {
    if (idx % 2) {
      if (used >= siblings.length) return null;
      node = await H(concat(NODE, siblings[used++], node));
    } else if (idx + 1 < size) {
      if (used >= siblings.length) return null;
      node = await H(concat(NODE, node, siblings[used++]));
    }
    idx = Math.floor(idx / 2);
    size = Math.floor((size + 1) / 2);
  }
  return used === siblings.length ? bytesToHex(node) : null;
}

// Each result: {check: <dictionary key>, status: OK|FAILED|UNCHECKED, detail: <key or "">}.
function result(check, ok, detail = "") {
  return { check, status: ok ? OK : FAILED, detail: ok ? "" : detail };
}

// Checks that `commit` certifies `header` under `validators` (the set that signed).
export async function checkBlock(suite, header, blockHash, commit, validators) {
  if (!suiteCheckable(suite)) {
    return [{ check: "verify.block_hash", status: UNCHECKED, detail: "verify.suite_unchecked" }];
  }
  const out = [];
  const computed = bytesToHex(await suiteHash(suite, encode(SCHEMAS.header, header)));
  out.push(result("verify.block_hash", computed === blockHash && commit.block_hash === computed,
    "verify.hash_mismatch"));
  const setHash = bytesToHex(await suiteHash(suite, encode(SCHEMAS.validatorSet, { validators })));
  out.push(result("verify.validator_set", setHash === header.validators_hash,
    "verify.set_mismatch"));
  if (!(await signaturesCheckable(suite))) {
    out.push({ check: "verify.commit", status: UNCHECKED, detail: "verify.no_ed25519" });
    return out;
  }
  const vote = encode(SCHEMAS.vote, {
    chain_id: header.chain_id, type: 2, height: header.height, round: commit.round,
    block_hash: computed,
  });
  const total = validators.reduce((n, v) => n + v.power, 0);
  const seen = new Set();
  let signed = 0;
  let good = commit.height === header.height;
  for (const sig of commit.signatures) {
    const v = validators[sig.validator_index];
    if (!v || seen.has(sig.validator_index)) {
      good = false;
      break;
    }
    seen.add(sig.validator_index);
    if (!(await suiteVerify(suite, v.public_key, vote, sig.signature))) {
      good = false;
      break;
    }
    signed += v.power;
  }
  const certified = good && total > 0 && signed * 3 > total * 2;
  out.push({ ...result("verify.commit", certified, "verify.commit_short"), signed, total });
  return out;
}

// Checks a committed transaction from GET /v1/transactions/{hash}: its hash, its sender's
// signature, its path to the tx root, its receipt's path to the receipts root, then the block.
export async function checkTransaction(suite, doc, validators) {
  if (!suiteCheckable(suite)) {
    return [{ check: "verify.tx_hash", status: UNCHECKED, detail: "verify.suite_unchecked" }];
  }
  const { proof } = doc;
  const raw = hexToBytes(doc.raw);
  const out = [];
  out.push(result("verify.tx_hash", bytesToHex(await suiteHash(suite, raw)) === doc.hash,
    "verify.hash_mismatch"));
  if (await signaturesCheckable(suite)) {
    let ok = false;
    try {
      const [txArray, signature] = decode(raw);
      const fields = SCHEMAS.tx.fields.map(([n]) => n);
      const tx = Object.fromEntries(fields.map((n, i) => [n, txArray[i]]));
      ok = await suiteVerify(suite, bytesToHex(tx.sender), encode(SCHEMAS.tx, tx), bytesToHex(signature));
    } catch (_) {
      ok = false;
    }
    out.push(result("verify.signature", ok, "verify.bad_signature"));
  } else {
    out.push({ check: "verify.signature", status: UNCHECKED, detail: "verify.no_ed25519" });
  }
  const txRoot = await merkleRootFromProof(suite, hexToBytes(doc.hash), proof.tx_proof);
  out.push(result("verify.tx_proof", txRoot === proof.header.tx_root, "verify.path_mismatch"));
  const receiptBytes = encode(SCHEMAS.receipt, doc.receipt);
  const rRoot = await merkleRootFromProof(suite, receiptBytes, proof.receipt_proof);
  out.push(result("verify.receipt_proof", rRoot === proof.header.receipts_root && doc.receipt.tx_hash === doc.hash,
    "verify.path_mismatch"));
  out.push(...(await checkBlock(suite, proof.header, proof.block_hash, proof.commit, validators)));
  return out;
}

const STEP_TYPES = { prevote: 1, precommit: 2, proposal: 32 };

// Whether an accusation of equivocation holds: both bodies are `kind` messages of this
// chain, height and round, naming the claimed blocks, signed by the accused (validator
// `validator_index` of `validators`, the set that signs that height), for two different
// blocks. Returns {status, detail} (detail: a dictionary key when it fails).
export async function checkEquivocation(suite, chainId, e, validators) {
  const fail = (detail) => ({ status: FAILED, detail });
  if (!suiteCheckable(suite) || !(await signaturesCheckable(suite))) {
    return { status: UNCHECKED, detail: suite === "sm" ? "" : "verify.no_ed25519" };
  }
  const step = STEP_TYPES[e.kind];
  if (step === undefined) return fail("eq.bad_kind");
  const member = validators[e.validator_index];
  if (!member || member.public_key !== e.validator) return fail("eq.not_member");
  const parts = [e.first, e.second];
  if (parts[0].signed === parts[1].signed) return fail("eq.same_body");
  for (const part of parts) {
    let fields;
    try {
      fields = decode(hexToBytes(part.signed));
    } catch (_) {
      return fail("eq.bad_body");
    }
    const size = e.kind === "proposal" ? 6 : 5;
    if (!Array.isArray(fields) || fields.length !== size) return fail("eq.bad_body");
    const [chain, type, height, round, blockHash] = fields;
    if (chain !== chainId || type !== step || height !== e.height || round !== e.round) {
      return fail("eq.bad_body");
    }
    if (!(blockHash instanceof Uint8Array) || bytesToHex(blockHash) !== part.block_hash) {
      return fail("eq.bad_body");
    }
    if (!(await suiteVerify(suite, e.validator, hexToBytes(part.signed), part.signature))) {
      return fail("verify.bad_signature");
    }
  }
  if (parts[0].block_hash === parts[1].block_hash) return fail("eq.no_conflict");
  return { status: OK, detail: "" };
}
