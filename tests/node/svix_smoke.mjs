// The Svix JavaScript SDK against Hookline: an application, an endpoint (a receiver
// of this script's own), a message; the receiver verifies the signature with the
// SDK's Webhook class. Prints what happened as JSON.
// Usage: node svix_smoke.mjs <hookline url> <api key>
import http from "node:http";
import { Svix, Webhook } from "svix";

const [serverUrl, token] = process.argv.slice(2);
const svix = new Svix(token, { serverUrl });
let secret;
let deliver;
const arrived = new Promise((resolve) => (deliver = resolve));
const receiver = http.createServer((req, res) => {
  let body = "";
  req.on("data", (chunk) => (body += chunk));
  req.on("end", () => {
    res.end("ok");
    receiver.close();
    new Webhook(secret).verify(body, req.headers); // throws unless signed with the secret
    deliver({ payload: JSON.parse(body), svixId: req.headers["svix-id"] });
  });
});
await new Promise((resolve) => receiver.listen(0, "127.0.0.1", resolve));
// A safety net so a broken server never hangs the test run.
setTimeout(() => {
  console.error("no delivery arrived");
  process.exit(1);
}, 60000).unref();

const app = await svix.application.getOrCreate({ name: "Node", uid: "node-app" });
const endpoint = await svix.endpoint.create(app.id, {
  url: `http://127.0.0.1:${receiver.address().port}/hook`,
  eventTypes: ["user.signup"],
});
secret = (await svix.endpoint.getSecret(app.id, endpoint.id)).key;
const msg = await svix.message.create(app.id, {
  eventType: "user.signup",
  payload: { email: "node@example.com" },
});
const got = await arrived;
const list = await svix.endpoint.list(app.id);
console.log(
  JSON.stringify({
    appUid: app.uid,
    msgId: msg.id,
    svixId: got.svixId,
    payload: got.payload,
    endpoints: list.data.length,
    done: list.done,
  }),
);
