// Drives headless Chromium over the Chrome DevTools protocol (no npm packages: Node 20's WebSocket,
// enabled with --experimental-websocket) to watch the clouddb-server console while a test runs
// `terraform apply`.
//
//   node --experimental-websocket watch.mjs CHROMIUM URL INSTANCE SCREENSHOT TIMEOUT_S
//   (the admin token comes in CONSOLE_ADMIN_TOKEN, never on the command line)
//
// It signs in through the login form, prints `ready` once the console shows, then reads the DOM
// every 100 ms and prints one JSON line per change of the instance's state
// ({"state": "CREATING", "navigations": 1}). When the state is the final one (READY) it takes a
// screenshot and prints `shot`; then it waits for a label the test drifts in (markup in its value),
// prints what the page made of it ({"hostile": {...}}), prints `done` and exits 0. Exit 1 with a message on stderr on any failure or timeout.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const [chromium, url, instance, screenshot, timeoutS] = process.argv.slice(2);
const token = process.env.CONSOLE_ADMIN_TOKEN ?? "";
const deadline = Date.now() + Number(timeoutS || 90) * 1000;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function fail(msg) {
  process.stderr.write(`watch.mjs: ${msg}\n`);
  cleanup();
  process.exit(1);
}

const profile = mkdtempSync(join(tmpdir(), "clouddb-console-chromium-"));
// The flags that keep Chromium off the network on a closed machine (see the machine notes).
const browser = spawn(chromium, [
  "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
  "--disable-default-apps", "--disable-extensions", "--mute-audio",
  "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0",
  `--user-data-dir=${profile}`, "--window-size=1280,900", "about:blank",
], { stdio: ["ignore", "ignore", "pipe"] });
let browserLog = "";
browser.stderr.on("data", (d) => { browserLog = (browserLog + d).slice(-4000); });
browser.on("exit", (code) => { if (!finished) fail(`chromium exited (${code}): ${browserLog}`); });
let finished = false;

function cleanup() {
  finished = true;
  try { browser.kill("SIGKILL"); } catch { /* already gone */ }
  try { rmSync(profile, { recursive: true, force: true }); } catch { /* best effort */ }
}
process.on("exit", cleanup);

// Chromium writes its port to DevToolsActivePort in the profile once it listens.
async function debuggerPort() {
  const file = join(profile, "DevToolsActivePort");
  while (Date.now() < deadline) {
    if (existsSync(file)) {
      const port = readFileSync(file, "utf8").split("\n")[0];
      if (port) return port;
    }
    await sleep(50);
  }
  fail(`no DevToolsActivePort from chromium: ${browserLog}`);
}

const port = await debuggerPort();
const targets = await (await fetch(`http://127.0.0.1:${port}/json/list`)).json();
const page = targets.find((t) => t.type === "page");
if (!page) fail(`no page target: ${JSON.stringify(targets)}`);

const ws = new WebSocket(page.webSocketDebuggerUrl);
await new Promise((ok, err) => { ws.onopen = ok; ws.onerror = () => err(new Error("websocket")); })
  .catch((e) => fail(`cannot connect to the DevTools socket: ${e.message}`));
let nextId = 1;
const pending = new Map();
let navigations = 0;
ws.onmessage = (m) => {
  const msg = JSON.parse(m.data);
  if (msg.id && pending.has(msg.id)) {
    const { ok, err } = pending.get(msg.id);
    pending.delete(msg.id);
    msg.error ? err(new Error(JSON.stringify(msg.error))) : ok(msg.result);
  } else if (msg.method === "Page.frameNavigated" && !msg.params.frame.parentId) {
    navigations += 1;
  }
};
function send(method, params = {}) {
  const id = nextId++;
  ws.send(JSON.stringify({ id, method, params }));
  return new Promise((ok, err) => pending.set(id, { ok, err }));
}
async function evaluate(expression) {
  const r = await send("Runtime.evaluate", { expression, returnByValue: true, awaitPromise: true });
  if (r.exceptionDetails) throw new Error(JSON.stringify(r.exceptionDetails));
  return r.result.value;
}
async function waitFor(expression, what) {
  while (Date.now() < deadline) {
    try { if (await evaluate(expression)) return; } catch { /* page still loading */ }
    await sleep(100);
  }
  fail(`timed out waiting for ${what}; page text: ${await evaluate("document.body && document.body.innerText").catch(() => "?")}`);
}

await send("Page.enable");
await send("Runtime.enable");
await send("Page.navigate", { url });
await waitFor("!!document.querySelector('form[action=\"/console/login\"]')", "the login form");
// Sign in as a user would: type the token, submit the form.
await evaluate(`(() => {
  document.getElementById('token').value = ${JSON.stringify(token)};
  document.querySelector('form[action="/console/login"]').submit();
})()`);
await waitFor("!!document.getElementById('projects') && /updated/.test(document.getElementById('status').textContent)", "the console after login");
const navigationsAfterLogin = navigations;
process.stdout.write("ready\n");

const sel = `document.querySelector('tr.instance[data-name=${JSON.stringify(instance).replace(/'/g, "\\'")}]')`;
let last = null;
while (Date.now() < deadline) {
  const state = await evaluate(`(() => { const r = ${sel}; return r ? r.querySelector('.state').textContent : null; })()`)
    .catch(() => null);
  if (state !== null && state !== last) {
    last = state;
    process.stdout.write(JSON.stringify({ state, reloads: navigations - navigationsAfterLogin }) + "\n");
    if (state === "READY") {
      // Select the instance (its databases, users and firewall rules show) and let the next poll draw.
      await evaluate(`${sel}.click()`);
      await sleep(700);
      const shot = await send("Page.captureScreenshot", { format: "png" });
      writeFileSync(screenshot, Buffer.from(shot.data, "base64"));
      process.stdout.write("shot\n");
      await hostileLabel();
      process.stdout.write("done\n");
      cleanup();
      process.exit(0);
    }
  }
  await sleep(100);
}
fail(`timed out; last state seen: ${last}`);

// Phase two: the test drifts a label whose value is markup (with an onerror that would set
// window.__pwned). The page must show it as text: no element made from it, no script run.
async function hostileLabel() {
  const probe = `(() => {
    const r = ${sel};
    const l = r && [...r.querySelectorAll('.label')].find((e) => e.textContent.startsWith('x='));
    return l ? { text: l.textContent, elements: r.querySelectorAll('.labels *:not(.label)').length,
                 img: document.querySelectorAll('img').length, pwned: !!window.__pwned } : null;
  })()`;
  while (Date.now() < deadline) {
    const seen = await evaluate(probe).catch(() => null);
    if (seen) {
      await sleep(600); // a later poll must not change that either (an onerror fires asynchronously)
      process.stdout.write(JSON.stringify({ hostile: await evaluate(probe) }) + "\n");
      return;
    }
    await sleep(100);
  }
  fail("timed out waiting for the drifted label");
}
