// A headless Chromium driven by pytest (tests/browser_client.py), one command a line.
// stdin: {"id": N, "op": "...", ...} JSON lines; stdout: {"id": N, "ok": ..., "value"|"error": ...}.
// Every request the pages make is recorded, so a test can check none left the server.
import chromium from "@sparticuz/chromium";
import puppeteer from "puppeteer-core";
import readline from "node:readline";

const browser = await puppeteer.launch({
  args: [...chromium.args, "--lang=en-US"],
  executablePath: await chromium.executablePath(),
  headless: true,
  defaultViewport: null,
});
const pages = new Map();
let next = 1;

async function open({ url, width = 1000, height = 600, lang = "en-US", downloads }) {
  const page = await browser.newPage();
  const id = next++;
  const record = { page, requests: [], console: [], errors: [] };
  pages.set(id, record);
  page.on("request", (r) => record.requests.push(r.url()));
  page.on("console", (m) => record.console.push(m.type() + ": " + m.text()));
  page.on("pageerror", (e) => record.errors.push(String(e)));
  await page.setViewport({ width, height });
  await page.setExtraHTTPHeaders({ "Accept-Language": lang });
  await page.evaluateOnNewDocument((l) => {
    Object.defineProperty(navigator, "language", { get: () => l });
  }, lang);
  if (downloads) {
    const cdp = await page.createCDPSession();
    await cdp.send("Browser.setDownloadBehavior", { behavior: "allow", downloadPath: downloads });
  }
  const response = await page.goto(url, { waitUntil: "load" });
  return { page: id, status: response ? response.status() : 0, headers: response ? response.headers() : {} };
}

const ops = {
  open,
  async eval({ page, js }) {
    return await pages.get(page).page.evaluate(js);
  },
  async type({ page, selector, text }) {
    await pages.get(page).page.type(selector, text);
  },
  async click({ page, selector }) {
    await pages.get(page).page.click(selector);
  },
  async press({ page, key }) {
    await pages.get(page).page.keyboard.press(key);
  },
  async keys({ page, text }) {
    await pages.get(page).page.keyboard.type(text);
  },
  async viewport({ page, width, height }) {
    await pages.get(page).page.setViewport({ width, height });
  },
  async screenshot({ page, path }) {
    await pages.get(page).page.screenshot({ path });
  },
  async record({ page }) {
    const r = pages.get(page);
    return { requests: r.requests, console: r.console, errors: r.errors };
  },
  async offline({ page, offline }) {
    await pages.get(page).page.setOfflineMode(offline);
  },
  async compose({ page, html, scripts = [], styles = [], js }) {
    // A page made here (the README's picture): its HTML, files to load, a script to run.
    const p = pages.get(page).page;
    await p.setContent(html);
    for (const path of styles) await p.addStyleTag({ path });
    for (const path of scripts) await p.addScriptTag({ path });
    return js ? await p.evaluate(js) : null;
  },
  async shoot({ page, selector, path }) {
    const element = await pages.get(page).page.$(selector);
    await element.screenshot({ path });
  },
  async close({ page }) {
    await pages.get(page).page.close();
    pages.delete(page);
  },
};

const lines = readline.createInterface({ input: process.stdin });
const out = (obj) => process.stdout.write(JSON.stringify(obj) + "\n");
out({ id: 0, ok: true, value: await browser.version() });
for await (const line of lines) {
  const request = JSON.parse(line);
  try {
    const value = await ops[request.op](request);
    out({ id: request.id, ok: true, value: value === undefined ? null : value });
  } catch (error) {
    out({ id: request.id, ok: false, error: String(error && error.stack || error) });
  }
}
await browser.close();
