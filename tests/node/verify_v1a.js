// Verifies one Standard Webhooks v1a (Ed25519) request with Node's built-in crypto and
// nothing else, the way a receiver written in JavaScript would.
//   node verify_v1a.js whpk_… < request.json     ({"headers": {…}, "body_base64": "…"})
// Exit 0: a v1a signature verifies; 1: none does (or the timestamp is stale); 2: usage.
"use strict";
const crypto = require("node:crypto");

function verifyV1a(publicKey, headers, body, toleranceSeconds = 300) {
  if (!publicKey.startsWith("whpk_")) throw new Error("expected a whpk_ public key");
  const key = crypto.createPublicKey({
    format: "jwk",
    key: { kty: "OKP", crv: "Ed25519", x: Buffer.from(publicKey.slice(5), "base64").toString("base64url") },
  });
  const id = headers["webhook-id"];
  const timestamp = headers["webhook-timestamp"];
  if (!id || !/^\d+$/.test(timestamp || "")) return false;
  if (Math.abs(Date.now() / 1000 - Number(timestamp)) > toleranceSeconds) return false;
  const signed = Buffer.concat([Buffer.from(`${id}.${timestamp}.`), body]);
  return (headers["webhook-signature"] || "").split(" ").some((entry) => {
    const [version, signature] = entry.split(",");
    return version === "v1a" && crypto.verify(null, signed, key, Buffer.from(signature || "", "base64"));
  });
}

const chunks = [];
process.stdin.on("data", (c) => chunks.push(c));
process.stdin.on("end", () => {
  let request;
  try {
    request = JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch (err) {
    console.error(`not JSON: ${err.message}`);
    process.exit(2);
  }
  const headers = Object.fromEntries(
    Object.entries(request.headers).map(([name, value]) => [name.toLowerCase(), value]),
  );
  const ok = verifyV1a(process.argv[2] || "", headers, Buffer.from(request.body_base64, "base64"));
  console.log(ok ? "valid" : "invalid");
  process.exit(ok ? 0 : 1);
});
