// The page checks what it shows against the organisation's signed ledger, in the browser
// (WebCrypto: SHA-256, ECDSA P-256), trusting nothing the service says beside the signed
// checkpoint body:
// - the latest checkpoint's signature, by the key whose id the checkpoint names;
// - that it extends the last checkpoint this browser saw (kept in localStorage: the
//   browser is a witness, so a rewritten history is noticed on the next visit);
// - on request, an event's inclusion proof against a signed checkpoint.
// RFC 9162 §2.1 hashing and proof verification, C2SP checkpoint bodies, RFC 8785 entries.

const ENTRY_FIELDS = ["event_id", "event_type", "occurred_at", "recorded_at", "actor", "targets", "context", "details"];
const SEEN_KEY = "audit-log-ledger-seen:";
const KEY_KEY = "audit-log-ledger-key:";
const encoder = new TextEncoder();

export class LedgerProblem extends Error {}

function b64decode(text) {
  if (typeof text !== "string" || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) throw new LedgerProblem("a hash is not base64");
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

function b64encode(bytes) {
  return btoa(String.fromCharCode(...bytes));
}

function hex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function equal(a, b) {
  return a.length === b.length && a.every((value, i) => value === b[i]);
}

async function sha256(...parts) {
  const total = parts.reduce((n, p) => n + p.length, 0);
  const joined = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    joined.set(part, offset);
    offset += part.length;
  }
  return new Uint8Array(await crypto.subtle.digest("SHA-256", joined));
}

const LEAF = Uint8Array.of(0);
const NODE = Uint8Array.of(1);
const leafHash = (entry) => sha256(LEAF, entry);
const nodeHash = (left, right) => sha256(NODE, left, right);

/** RFC 8785 (JCS): object names sorted by UTF-16 code units, ES6 number and string forms. */
export function canonicalJson(value) {
  if (value === null || typeof value === "boolean" || typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new LedgerProblem("a number that JSON cannot hold");
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  const names = Object.keys(value).sort();
  return `{${names.map((name) => `${JSON.stringify(name)}:${canonicalJson(value[name])}`).join(",")}}`;
}

/** The leaf hash of an event as GET /events shows it: SHA-256(0x00 ‖ JCS(recorded fields)). */
export async function eventLeafHash(event) {
  const entry = {};
  for (const field of ENTRY_FIELDS) {
    if (!(field in event)) throw new LedgerProblem(`the event has no ${field}`);
    entry[field] = event[field];
  }
  return leafHash(encoder.encode(canonicalJson(entry)));
}

/** The tree head a C2SP checkpoint body states (the one form the ledger writes). */
export function parseBody(body) {
  const match = /^([^\n]+)\n(0|[1-9][0-9]{0,19})\n([A-Za-z0-9+/]{43}=)\ntimestamp ([0-9T:.Z-]{24})\n$/.exec(body ?? "");
  if (!match) throw new LedgerProblem("the checkpoint body is not a checkpoint");
  return { origin: match[1], size: Number(match[2]), sizeText: match[2], root: b64decode(match[3]), timestamp: match[4] };
}

/** ECDSA's DER signature (SEQUENCE of two INTEGERs) as WebCrypto's r ‖ s, 32 bytes each. */
function derToRaw(der) {
  const fail = () => {
    throw new LedgerProblem("the signature is not a DER ECDSA signature");
  };
  if (der[0] !== 0x30 || der[1] !== der.length - 2) fail();
  const parts = [];
  let at = 2;
  for (let i = 0; i < 2; i += 1) {
    if (der[at] !== 0x02) fail();
    const length = der[at + 1];
    let value = der.slice(at + 2, at + 2 + length);
    at += 2 + length;
    while (value.length > 32 && value[0] === 0) value = value.slice(1);
    if (value.length > 32) fail();
    const padded = new Uint8Array(32);
    padded.set(value, 32 - value.length);
    parts.push(padded);
  }
  if (at !== der.length) fail();
  const raw = new Uint8Array(64);
  raw.set(parts[0]);
  raw.set(parts[1], 32);
  return raw;
}

/** The signing key from GET /ledger/public-key, its id recomputed from its DER. */
export async function importKey(document) {
  const pem = document?.public_key_pem ?? "";
  const der = b64decode(pem.replace(/-----(BEGIN|END) PUBLIC KEY-----/g, "").replace(/\s+/g, ""));
  const keyId = hex(await sha256(der));
  if (document.key_id !== keyId) throw new LedgerProblem("the public key's id does not match the key");
  const key = await crypto.subtle.importKey("spki", der, { name: "ECDSA", namedCurve: "P-256" }, false, ["verify"]);
  return { key, keyId };
}

/** The tree head of a checkpoint whose signature the key made; LedgerProblem otherwise. */
export async function verifyCheckpoint(checkpoint, signer) {
  const head = parseBody(checkpoint?.body);
  if (checkpoint.key_id !== signer.keyId) throw new LedgerProblem("the checkpoint is signed by another key");
  const signature = derToRaw(b64decode(checkpoint.signature));
  const valid = await crypto.subtle.verify(
    { name: "ECDSA", hash: "SHA-256" },
    signer.key,
    signature,
    encoder.encode(checkpoint.body),
  );
  if (!valid) throw new LedgerProblem("the checkpoint's signature does not verify");
  if (
    checkpoint.origin !== head.origin ||
    String(checkpoint.tree_size) !== head.sizeText ||
    checkpoint.root_hash !== b64encode(head.root) ||
    checkpoint.timestamp !== head.timestamp
  ) {
    throw new LedgerProblem("the checkpoint's fields differ from its signed body");
  }
  return head;
}

/** RFC 9162 §2.1.3.2: does `path` lead from `leaf` at `index` to `root`? */
export async function verifyInclusion(index, size, leaf, path, root) {
  if (!(index >= 0 && index < size) || path.length > 64) return false;
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const p of path) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = await nodeHash(p, r);
      while (fn % 2 === 0 && fn !== 0) {
        fn = Math.floor(fn / 2);
        sn = Math.floor(sn / 2);
      }
    } else {
      r = await nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && equal(r, root);
}

// Sizes stay below 2^53 here (exact in a JS number); bit operators would stop at 2^31.
const isPowerOfTwo = (n) => n > 0 && 2 ** Math.round(Math.log2(n)) === n;

/** RFC 9162 §2.1.4.2: does `proof` show the tree of `second` leaves extends the first? */
export async function verifyConsistency(first, second, firstRoot, secondRoot, proof) {
  if (first === second) return proof.length === 0 && equal(firstRoot, secondRoot);
  if (first === 0) return proof.length === 0;
  if (!(first < second) || proof.length === 0 || proof.length > 65) return false;
  const path = [...proof];
  if (isPowerOfTwo(first)) path.unshift(firstRoot);
  let fn = first - 1;
  let sn = second - 1;
  while (fn % 2 === 1) {
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  let fr = path[0];
  let sr = path[0];
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      fr = await nodeHash(c, fr);
      sr = await nodeHash(c, sr);
      while (fn % 2 === 0 && fn !== 0) {
        fn = Math.floor(fn / 2);
        sn = Math.floor(sn / 2);
      }
    } else {
      sr = await nodeHash(sr, c);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && equal(fr, firstRoot) && equal(sr, secondRoot);
}

function seen(origin) {
  try {
    return JSON.parse(localStorage.getItem(SEEN_KEY + origin) ?? "null");
  } catch {
    return null;
  }
}

/**
 * Verify the latest checkpoint and that it extends the one this browser saw last.
 * `get(path)` is the page's authorised GET (JSON). Resolves to {head, checkpoint, signer}
 * or rejects with a LedgerProblem naming what failed; only a verified checkpoint is kept.
 */
export async function verifyLatest(get) {
  const signer = await importKey(await get("/ledger/public-key"));
  const checkpoint = await get("/ledger/checkpoint");
  const head = await verifyCheckpoint(checkpoint, signer);
  const pinnedKey = localStorage.getItem(KEY_KEY + head.origin);
  if (pinnedKey && pinnedKey !== signer.keyId) {
    throw new LedgerProblem("the ledger's signing key changed since this browser last checked it");
  }
  const last = seen(head.origin);
  if (last) {
    const lastHead = parseBody(last.body);
    if (head.size < lastHead.size) {
      throw new LedgerProblem(
        `the ledger has ${head.size} events, fewer than the ${lastHead.size} this browser saw on ${lastHead.timestamp}: history was rewritten`,
      );
    }
    const answer = head.size === lastHead.size ? { proof: [] } : await get(`/ledger/consistency?from=${lastHead.sizeText}&to=${head.sizeText}`);
    const proof = (answer.proof ?? []).map(b64decode);
    if (!(await verifyConsistency(lastHead.size, head.size, lastHead.root, head.root, proof))) {
      throw new LedgerProblem(
        head.size === lastHead.size
          ? `two different ledgers of ${head.size} events were published (a fork): history was rewritten`
          : `the ledger does not extend the one this browser saw on ${lastHead.timestamp}: history was rewritten`,
      );
    }
  }
  localStorage.setItem(KEY_KEY + head.origin, signer.keyId);
  localStorage.setItem(SEEN_KEY + head.origin, JSON.stringify({ body: checkpoint.body }));
  return { head, checkpoint, signer };
}

/**
 * Verify that `event` (as the page shows it) is in the signed ledger. Resolves to
 * {index, size, timestamp}; rejects with a LedgerProblem naming what failed. `latest` is
 * what verifyLatest resolved to: a proof against a checkpoint of the same size must
 * state the same root.
 */
export async function verifyEvent(get, event, latest) {
  const proof = await get(`/events/${encodeURIComponent(event.event_id)}/proof`);
  const head = await verifyCheckpoint(proof.checkpoint, latest.signer);
  if (head.size === latest.head.size && !equal(head.root, latest.head.root)) {
    throw new LedgerProblem("the proof's checkpoint contradicts the latest checkpoint (a fork)");
  }
  const leaf = await eventLeafHash(event);
  if (!equal(leaf, b64decode(proof.leaf_hash))) {
    throw new LedgerProblem("this event differs from what was sealed: it was changed after it was recorded");
  }
  if (proof.event_id !== event.event_id || proof.tree_size !== head.size) {
    throw new LedgerProblem("the proof is not for this event and checkpoint");
  }
  const path = (proof.inclusion_path ?? []).map(b64decode);
  if (!(await verifyInclusion(proof.leaf_index, head.size, leaf, path, head.root))) {
    throw new LedgerProblem("the inclusion proof does not lead to the signed root");
  }
  return { index: proof.leaf_index, size: head.size, timestamp: head.timestamp };
}
