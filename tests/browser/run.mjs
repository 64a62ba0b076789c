// Runs one journey of the web console in a real Chromium (Debian's, at
// /usr/bin/chromium): `node run.mjs <journey>` reads the journey's setting
// (the nodes' URLs, sign-in links…) as JSON on stdin, runs
// journeys/<journey>.mjs, and prints what it found as JSON on its last
// line. A failed check throws: the process exits non-zero with the reason.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { createInterface } from "node:readline";
import { chromium } from "playwright-core";

const require = createRequire(import.meta.url);
const AXE = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");

// The setting is the first line on stdin; each later line resumes a pause.
const name = process.argv[2];
const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
const setting = JSON.parse((await lines.next()).value || "{}");
const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  headless: true,
  // Playwright gives each launch a fresh profile of its own.
  args: [
    "--no-sandbox", "--disable-gpu", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
  ],
});

/** Fails the journey with `message` unless `ok`. */
function check(ok, message) {
  if (!ok) throw new Error(message);
}

/** The visible text of the page's main part. */
async function text(page, selector = "main") {
  return (await page.locator(selector).first().innerText()).replace(/\s+/g, " ");
}

/** axe-core's serious and critical violations on the page, as a list of
 * "rule: target" lines; the journey fails on any, and on a page wider
 * than a 360 px screen. */
async function accessible(page, what) {
  // Evaluated through the browser's debugging protocol: the page's strict
  // Content-Security-Policy would refuse it as a script tag.
  await page.evaluate(AXE);
  const result = await page.evaluate(async () =>
    await window.axe.run(document, { runOnly: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"] }));
  const bad = result.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join("; ")}`);
  check(bad.length === 0, `axe-core on ${what}: ${bad.join(" | ")}`);
  // And on a phone's screen, 360 px wide, the page does not scroll
  // sideways (a wide table scrolls in its own box).
  const size = page.viewportSize();
  await page.setViewportSize({ width: 360, height: 780 });
  const wide = await page.evaluate(() => document.documentElement.scrollWidth);
  // The elements whose content sticks out (outside scrolling boxes), to
  // name in the failure.
  const out = wide <= 360 ? [] : await page.evaluate(() => [...document.querySelectorAll("main *, header *")]
    .filter((e) => e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).overflowX === "visible"
      && !e.closest(".scroll") && !e.classList.contains("visually-hidden"))
    .slice(0, 5)
    .map((e) => `${e.tagName.toLowerCase()}${e.id ? "#" + e.id : ""}${e.className ? "." + e.className : ""}`));
  await page.setViewportSize(size);
  check(wide <= 360, `${what} is ${wide} px wide on a 360 px screen: ${out.join(", ")}`);
  return result.violations.length;
}

/** A page in a fresh context: its own cookies, as another person's browser. */
async function newPage(viewport = { width: 1280, height: 900 }) {
  const context = await browser.newContext({ locale: "ru-RU", viewport });
  return context.newPage();
}

/** Opens a sign-in link in a fresh browser and signs in. */
async function signIn(link, viewport) {
  const page = await newPage(viewport);
  await page.goto(link);
  await page.getByRole("button", { name: "Войти" }).click();
  await page.waitForURL(/\/calendar/);
  return page;
}

const pages = [];
const ctx = {
  setting,
  browser,
  check,
  text,
  accessible,
  signIn: async (link, viewport) => {
    const page = await signIn(link, viewport);
    pages.push(page);
    return page;
  },
  newPage: async (viewport) => {
    const page = await newPage(viewport);
    pages.push(page);
    return page;
  },
  /** Lets the test do something between two steps (move the node's
   * clock, remove a member): prints `PAUSE <label> <json>` and waits for
   * the test's answer line, which it returns parsed. */
  async pause(label, found = {}) {
    console.log(`PAUSE ${label} ${JSON.stringify(found)}`);
    const answer = await lines.next();
    return JSON.parse(answer.value || "{}");
  },
  /** Bytes of a page (its HTML, without images). */
  async weight(page, url) {
    const response = await page.request.get(url);
    return (await response.body()).length;
  },
};

let status = 0;
try {
  const journey = await import(`./journeys/${name}.mjs`);
  const found = await journey.run(ctx);
  console.log(JSON.stringify(found ?? {}));
} catch (error) {
  console.error(`journey ${name}: ${error.stack || error}`);
  for (const [i, page] of pages.entries()) {
    try {
      console.error(`page ${i}: ${page.url()}\n${(await text(page, "body")).slice(0, 3000)}`);
    } catch {}
  }
  status = 1;
} finally {
  await browser.close();
}
process.exit(status);
